#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod deprecated;
mod endpoint;
mod error;
pub mod extract;
mod response;
mod stall;

#[allow(deprecated)]
pub use deprecated::{
    Cursor, HubEndpoint, HubResponse, LastEventId, LastEventIdRejection, hub_route,
};
pub use endpoint::{endpoint_resource, endpoint_route};
pub use error::HubError;
pub use extract::{RequestCursor, Resume, ResumeRejection};
pub use response::Sse;
pub use stall::stall_timeout;
// What an application needs besides this crate, so that it is the only
// dependency for SSE: the events, keep-alive, and the hub.
pub use sse_engine::compression;
pub use sse_engine::hub;
pub use sse_engine::metrics;
pub use sse_engine::{
    EncodedEvent, Event, EventId, IntoEventId, IntoText, InvalidField, KeepAlive, STALL_TIMEOUT,
    SseBody, Text, set_stall_timeout,
};
