#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod extract;
mod hub_endpoint;
mod response;

use actix_web::Route;

pub use error::HubError;
pub use extract::{Cursor, LastEventId, LastEventIdRejection};
// What an application needs besides this crate, so that it is the only
// dependency for SSE: the events, keep-alive, and the hub.
pub use hub_endpoint::{HubEndpoint, HubResponse};
pub use response::Sse;
pub use sse_engine::hub;
pub use sse_engine::{
    EncodedEvent, Event, EventId, InvalidField, KeepAlive, RequestCursor, SseBody, Text,
};

/// A `GET` route serving `topics` of `hub` with resume; see [`HubEndpoint`].
pub fn hub_route<T: Into<Text>>(hub: hub::Hub, topics: impl IntoIterator<Item = T>) -> Route {
    HubEndpoint::new(hub, topics).route()
}
