//! Makes any service's event-stream responses production-grade, whatever
//! produced them: a handler writing `sse_engine::Event`s, axum's `Sse`, or raw
//! bytes with a body type of its own.
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use sse_engine::KeepAlive;
//! use sse_tower::response::SseResponseLayer;
//! use tokio_util::sync::CancellationToken;
//! use tower::ServiceBuilder;
//!
//! let shutdown = CancellationToken::new();
//! let service = ServiceBuilder::new()
//!     .layer(
//!         SseResponseLayer::new()
//!             .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
//!             .max_lifetime(Duration::from_secs(3600))
//!             .shutdown_on(shutdown.clone()),
//!     )
//!     .service_fn(|_request: Request<()>| async {
//!         let response = Response::builder()
//!             .header("content-type", "text/event-stream")
//!             .body(Full::new(Bytes::from_static(b"data: hi\n\n")))
//!             .unwrap();
//!         Ok::<_, Infallible>(response)
//!     });
//! # drop(service);
//! ```
//!
//! For a response whose `Content-Type` is `text/event-stream`:
//!
//! - **Headers**: `Cache-Control: no-cache` and `X-Accel-Buffering: no` are
//!   added unless the handler set its own; `Content-Length` and the
//!   connection-specific headers (`Connection`, `Keep-Alive`,
//!   `Proxy-Connection`, which HTTP/2 forbids) are removed.
//! - **Keep-alive**: a comment after an idle interval (15 s unless set),
//!   written only at an event boundary. The middleware follows the bytes of
//!   the stream (LF, CR and CRLF line breaks, across frames) to know where
//!   events end. If the handler stalls in the middle of an event, nothing is
//!   written until it finishes the event.
//! - **Lifetime and shutdown**: optionally, the stream ends at the first event
//!   boundary after a maximum lifetime (with jitter), or after a
//!   cancellation token fires. Graceful shutdown is then not held up by open
//!   event streams. A stream that never reaches a boundary is not cut.
//!
//! - **Compression** (off unless [`SseResponseLayer::compression`] is set):
//!   negotiated from the request's `Accept-Encoding`, one compressor per
//!   stream whose window carries across events, flushed after every frame
//!   the handler's body yields and after every keep-alive comment, so that
//!   no event waits in it (see `sse_engine::compression`). The response says
//!   `Content-Encoding` and `Vary: Accept-Encoding`; a client that asked for
//!   none of the codecs gets the stream as it is.
//!
//! Every other response passes through untouched: same head, same body
//! frames, same size hint.
//!
//! # Other middleware
//!
//! - tower-http's `CompressionLayer`: its default predicate leaves
//!   `text/event-stream` uncompressed (it would buffer events), and it leaves
//!   a response that already has a `Content-Encoding` alone: it works beside
//!   this layer's compression. A stream that arrives here compressed
//!   already (`Content-Encoding` other than `identity`, an `SseBody` given a
//!   compression for example) is passed through untouched: no event boundary
//!   can be found in compressed bytes, so no keep-alive, ending or
//!   compression is applied. **So its `shutdown_on` and `max_lifetime` do
//!   not end it either**: with this layer, compress here
//!   ([`SseResponseLayer::compression`]) rather than in the body or the hub
//!   endpoint, or end those streams yourself (a hub's `close`). A `204`,
//!   `304` or `1xx` answer passes through too (no body to write into).
//! - tower-http's `TimeoutLayer` (and tower's `timeout`): they time the
//!   response future, which resolves when the headers are ready, so a healthy
//!   stream is not cut. Use `max_lifetime` to bound a stream's length.
//! - tower-http's `TraceLayer`: the response is logged when its head is sent;
//!   `on_eos` fires when the stream ends.

mod body;
mod config;
mod future;
mod layer;
mod service;

pub use self::body::SseResponseBody;
pub use self::future::ResponseFuture;
pub use self::layer::SseResponseLayer;
pub use self::service::SseResponse;
/// The keep-alive settings the layer takes (from `sse-engine`).
pub use sse_engine::KeepAlive;
