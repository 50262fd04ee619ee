//! Server-Sent Events for any server built on [`http`] and [`http_body`]:
//! axum, hyper, tower, actix-web (through `sse-actix`).
//!
//! - [`Event`]: one event, checked while it is built and encoded exactly as
//!   the WHATWG HTML standard's parser reads it back; [`EncodedEvent`] to
//!   encode once and send to many. Its fields take what axum's `Event`
//!   takes: any string, borrowed or owned ([`IntoText`]), and ids as numbers
//!   or text ([`IntoEventId`]); short text is held in the event itself, long
//!   text in shared [`Text`] that is never copied again.
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
//! use sse_engine::{Event, SseBody};
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
//!
//! # Framing
//!
//! The standard's parser (browsers' `EventSource`, [`decode`]) dispatches an
//! event at a blank line only when it has data; an `id` alone moves the
//! stream's last event id; comments and `retry` act as soon as they are
//! read. Clients that people use are laxer: `@microsoft/fetch-event-source`
//! hands the application a message at *every* blank line, and `httpx-sse`
//! and the decoders of the official OpenAI and Anthropic Python SDKs yield a
//! block that holds only `retry`, or any block at all once an id has been
//! seen. A comment block (`:\n\n`) then reaches them as an empty message,
//! and the OpenAI SDK fails on it (`json.loads("")`).
//!
//! So the workspace writes a blank line only to end a block that a
//! conformant client acts on at its end, and every conformant parser reads
//! exactly the same events as before:
//!
//! - **An event with data** ends with its blank line, as always.
//! - **Comments and `retry`** that the body writes on its own (the opening
//!   block of [`SseBody::retry`] and [`SseBody::initial_comment`], keep-alive
//!   comments, the hub's jittered `retry`) are lines with no blank line after
//!   them. They join the block of the next event, where conformant clients
//!   ignore the comments and apply `retry` at once, as they did before.
//! - **An [`Event`] without data** is written the same way: its comments and
//!   `retry` only. Its `event` name is left out (it would name the next
//!   event, and alone it has no effect), and it takes no sequence id from
//!   [`SseBody::sequence_ids`].
//! - **An id without data** is the exception: it is written with its blank
//!   line, because conformant clients record it (their `Last-Event-ID`
//!   moves). Lax clients report an empty event for it; the workspace never
//!   writes one on its own.
//! - **Keep-alive only between events**: a comment is written only where no
//!   event is open, so a slow event is never split.
//! - **A hub event always has an id**, so a hub event without data is an
//!   id-only block (see above).
//!
//! One consequence: clients that learn `retry` only from the events they
//! yield (`httpx-sse`, `reqwest-eventsource`) learn the opening `retry` with
//! the first event; browsers and the npm packages apply it when they read it.
//!
//! What the clients still disagree on whatever the framing is listed, with
//! the client versions tested, in the README's interop table (for example,
//! `fetch-event-source` 2.0.1 drops a leading empty `data:` line).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
pub mod compression;
pub mod decode;
mod encode;
mod encoded;
mod event;
mod field;
pub mod hub;
mod id;
pub mod jitter;
mod last_event_id;
pub mod metrics;
mod response;
pub mod stall;
mod text;
mod waker_identity;
mod wire;

pub use body::{Encodable, InfallibleStream, KeepAlive, KeepAliveTimer, LastSentId, SseBody};
pub use encoded::EncodedEvent;
pub use event::Event;
pub use field::{FieldName, InvalidField, InvalidFieldKind};
pub use id::{EventId, IntoEventId};
pub use last_event_id::{
    CursorRejection, LAST_EVENT_ID, LastEventId, LastEventIdError, RequestCursor,
};
pub use response::{SSE_HEADERS, X_ACCEL_BUFFERING, response_builder, sse_response};
pub use stall::{STALL_TIMEOUT, is_stalled, set_stall_timeout};
pub use text::{IntoText, Text};
