//! An incremental parser for `text/event-stream`, as the WHATWG HTML standard
//! ("Server-sent events", "Event stream interpretation") defines it.
//!
//! [`Decoder`] takes bytes in chunks of any size and yields [`DecodedEvent`]s;
//! [`EventStream`] does the same over any stream of byte chunks or any HTTP
//! body, so a server can read an upstream event stream (an LLM API, another
//! service) and pass its events on to its own clients.
//!
//! ```
//! use sse_engine::decode::Decoder;
//!
//! let mut decoder = Decoder::new();
//! decoder.push(b"event: delta\nid: 1\ndata: hel").unwrap();
//! assert!(decoder.next_event().is_none()); // the event is not finished
//! decoder.push(b"lo\r\n\r\n").unwrap();
//! let event = decoder.next_event().unwrap();
//! assert_eq!(event.event_type(), "delta");
//! assert_eq!(event.data(), "hello");
//! assert_eq!(event.last_event_id(), "1");
//! ```
//!
//! # What the parser does, after the standard
//!
//! - A UTF-8 byte order mark at the very start is skipped; bytes that are not
//!   UTF-8 become U+FFFD.
//! - Lines end with CRLF, LF or CR, also when a CRLF is split across chunks.
//! - `data` lines are joined with LF; an event with no data is not dispatched.
//! - The last event id is sticky: it stays until an `id` field changes it; an
//!   `id` with a NUL is ignored. `retry` takes ASCII digits only.
//! - An event that the stream ends in the middle of is discarded.
//!
//! # Limits
//!
//! A hostile or broken peer could send a line that never ends. The decoder
//! holds at most [`Limits::max_line_bytes`] of one line and
//! [`Limits::max_event_bytes`] of one event, and fails with a
//! [`DecodeError`] beyond them; that error is final.

mod decoder;
mod error;
mod event;
mod stream;

pub use self::decoder::{Decoder, Limits};
pub use self::error::{DecodeError, EventStreamError};
pub use self::event::DecodedEvent;
pub use self::stream::EventStream;
