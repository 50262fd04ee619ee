//! Server-Sent Events for [axum](https://docs.rs/axum) 0.8, on `sse-core`.
//!
//! - [`Sse`]: any stream of events as a response, with the SSE headers.
//! - [`Cursor`] and [`LastEventId`]: the client's cursor, as extractors that
//!   agree with the `sse-tower` layer when it is present.
//! - [`hub_route`]: a hub's topics as an endpoint with resume, in one line.
//!
//! ```
//! use axum::Router;
//! use sse_core::hub::Hub;
//!
//! let hub = Hub::new();
//! let app: Router = Router::new().route("/events", sse_axum::hub_route(hub.clone(), ["chat"]));
//! ```
#![forbid(unsafe_code)]

mod extract;
mod response;

use axum::routing::{MethodRouter, get_service};
use sse_core::Text;
use sse_core::hub::Hub;
use sse_tower::HubService;

pub use extract::{Cursor, LastEventId, LastEventIdRejection};
pub use response::Sse;

/// `GET`: the topics of `hub` as an event stream, resuming from the request's
/// cursor, with keep-alive; the hub's gap signal when the cursor cannot be
/// honoured, `503` when the hub is closed. For more control, mount
/// [`HubService`] yourself with `route_service`.
pub fn hub_route<S, T>(hub: Hub, topics: impl IntoIterator<Item = T>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    T: Into<Text>,
{
    get_service(HubService::new(hub, topics))
}
