#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod extract;
mod response;

use axum::routing::{MethodRouter, get_service};
use sse_tower::HubService;

pub use error::HubError;
pub use extract::{Cursor, LastEventId, LastEventIdRejection};
// What an application needs besides this crate, so that it is the only
// dependency for SSE: the events, keep-alive, and the hub.
pub use response::Sse;
pub use sse_engine::hub;
pub use sse_engine::{
    EncodedEvent, Event, EventId, InvalidField, KeepAlive, RequestCursor, SseBody, Text,
};

/// `GET`: the topics of `hub` as an event stream, resuming from the request's
/// cursor, with keep-alive; the hub's gap signal when the cursor cannot be
/// honoured, `503` when the hub is closed; other methods get `405` with
/// `Allow`. [`endpoint_route`] sets how the streams run.
pub fn hub_route<S, T>(hub: hub::Hub, topics: impl IntoIterator<Item = T>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    T: Into<Text>,
{
    endpoint_route(hub::Endpoint::new(hub, topics))
}

/// [`hub_route`] for an [`Endpoint`](hub::Endpoint), which sets how each
/// stream runs: its `retry`, maximum lifetime and keep-alive.
///
/// ```
/// use std::time::Duration;
/// use axum::Router;
/// use sse_axum::KeepAlive;
/// use sse_axum::hub::{Endpoint, Hub};
///
/// let hub = Hub::new();
/// let events = Endpoint::new(hub, ["chat"])
///     .retry(Duration::from_secs(2))
///     .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)));
/// let app: Router = Router::new().route("/events", sse_axum::endpoint_route(events));
/// ```
pub fn endpoint_route<S>(endpoint: hub::Endpoint) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get_service(HubService::from(endpoint))
}
