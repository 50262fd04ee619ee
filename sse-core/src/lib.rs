//! Server-Sent Events for any server built on [`http`] and [`http_body`]:
//! axum, hyper, tower, actix-web (through `sse-actix`).
//!
//! - [`Event`]: one event, checked while it is built and encoded exactly as
//!   the WHATWG HTML standard's parser reads it back; [`EncodedEvent`] to
//!   encode once and send to many.
//! - [`SseBody`]: any `Stream` of events as an `http_body::Body`, with
//!   coalesced frames, keep-alive, ids and a [`LastSentId`] handle.
//! - [`LastEventId`]: the reconnecting client's cursor, parsed and checked.
//! - [`decode`]: an incremental, spec-conformant parser from bytes to events,
//!   for proxies, tests and clients.
//!
//! ```
//! use std::convert::Infallible;
//! use futures_util::stream;
//! use http_body_util::BodyExt;
//! use sse_core::{Event, SseBody};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let events = stream::iter([
//!     Ok::<_, Infallible>(Event::new().event("greeting").data("hello")),
//!     Ok(Event::new().data("two\nlines")),
//! ]);
//! let body = SseBody::new(events).sequence_ids(1);
//! let bytes = body.collect().await.unwrap().to_bytes();
//! assert_eq!(
//!     bytes,
//!     "event: greeting\nid: 1\ndata: hello\n\nid: 2\ndata: two\ndata: lines\n\n"
//! );
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod body;
pub mod decode;
mod encode;
mod encoded;
mod event;
mod field;
pub mod hub;
pub mod jitter;
mod last_event_id;
mod response;
mod text;

pub use body::{Encodable, InfallibleStream, KeepAlive, KeepAliveTimer, LastSentId, SseBody};
pub use encoded::EncodedEvent;
pub use event::Event;
pub use field::{EventId, FieldName, InvalidField, InvalidFieldKind};
pub use last_event_id::{
    CursorRejection, LAST_EVENT_ID, LastEventId, LastEventIdError, RequestCursor,
};
pub use response::{SSE_HEADERS, X_ACCEL_BUFFERING, response_builder, sse_response};
pub use text::Text;
