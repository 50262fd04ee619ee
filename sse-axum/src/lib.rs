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
pub use sse_engine::{EncodedEvent, Event, EventId, InvalidField, KeepAlive, SseBody, Text};

/// `GET`: the topics of `hub` as an event stream, resuming from the request's
/// cursor, with keep-alive; the hub's gap signal when the cursor cannot be
/// honoured, `503` when the hub is closed. For more control, mount
/// [`HubService`] yourself with `route_service`.
pub fn hub_route<S, T>(hub: hub::Hub, topics: impl IntoIterator<Item = T>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    T: Into<Text>,
{
    get_service(HubService::new(hub, topics))
}
