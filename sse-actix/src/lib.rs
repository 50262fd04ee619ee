//! Server-Sent Events for [actix-web](https://docs.rs/actix-web) 4, on
//! `sse-core`.
//!
//! - [`Sse`]: any stream of events as a `Responder` and `MessageBody`, with
//!   the SSE headers and keep-alive from `sse-core`.
//! - [`Cursor`] and [`LastEventId`]: the client's cursor, as extractors.
//! - [`hub_route`] and [`HubEndpoint`]: a hub's topics as an endpoint with
//!   resume. When the client goes away, actix drops the body, and with it the
//!   hub subscription.
//!
//! ```
//! use actix_web::{App, web};
//! use sse_core::hub::Hub;
//!
//! let hub = Hub::new();
//! let app = App::new().service(web::resource("/events").route(sse_actix::hub_route(hub.clone(), ["chat"])));
//! # drop(app);
//! ```
#![forbid(unsafe_code)]

mod extract;
mod hub;
mod response;

use actix_web::Route;
use sse_core::Text;
use sse_core::hub::Hub;

pub use extract::{Cursor, LastEventId, LastEventIdRejection};
pub use hub::{HubEndpoint, HubResponse};
pub use response::Sse;

/// A `GET` route serving `topics` of `hub` with resume; see [`HubEndpoint`].
pub fn hub_route<T: Into<Text>>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Route {
    HubEndpoint::new(hub, topics).route()
}
