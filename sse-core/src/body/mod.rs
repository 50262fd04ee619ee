//! [`SseBody`]: any stream of events as a `text/event-stream` HTTP body.
//!
//! ```
//! use std::time::Duration;
//! use futures_util::stream;
//! use sse_engine::{Event, KeepAlive, SseBody};
//!
//! let events = stream::iter((1..=3u64).map(|n| Event::new().data(format!("tick {n}"))));
//! let response = SseBody::from_infallible_stream(events)
//!     .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
//!     .retry(Duration::from_secs(2))
//!     .sequence_ids(1)
//!     .into_response();
//! assert_eq!(response.headers()["content-type"], "text/event-stream");
//! ```
//!
//! # Frames
//!
//! Every event the stream has ready is encoded into one buffer, and they leave
//! as one frame, up to [`SseBody::max_frame_bytes`]; the body never waits for
//! more events to fill a frame. A data line of 4 KiB or more that is held in
//! shared bytes leaves as a frame of its own, without being copied.
//!
//! # Errors and the end
//!
//! An error from the stream ends the body with that error, after the events
//! that came before it have been sent. Dropping the body drops the stream,
//! and with it whatever the stream holds (a subscription, a channel).
//!
//! # Runtime
//!
//! Keep-alive uses tokio's timer: a body with keep-alive must be polled inside
//! a tokio runtime with time enabled (every axum, hyper and actix-web server
//! is one).

mod compressed;
mod encodable;
mod infallible;
mod keep_alive;
mod last_sent;

use std::any::type_name;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::{Stream, TryStream};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pub use self::encodable::Encodable;
pub use self::infallible::InfallibleStream;
pub use self::keep_alive::{KeepAlive, KeepAliveTimer};
pub use self::last_sent::LastSentId;

use self::encodable::sealed::Sealed as _;
use crate::compression::{Compression, FrameCompressor};
use crate::encode::{DEFAULT_FRAME_BYTES, FrameBuf};
use crate::metrics::StreamMetrics;
use crate::{Event, EventId, IntoText};

pin_project! {
    /// A `text/event-stream` body over a stream of events; see the
    /// [module docs](self).
    #[must_use = "bodies do nothing unless polled"]
    pub struct SseBody<S>
    where
        S: TryStream,
    {
        #[pin]
        stream: S,
        #[pin]
        keep_alive: KeepAliveTimer,
        frames: FrameBuf,
        // Boxed: sent once, then gone, while the body lives as long as
        // its connection.
        preamble: Option<Box<Event>>,
        next_id: Option<u64>,
        last_sent: Option<LastSentId>,
        // The id of the newest event in `frames`, published to `last_sent` once
        // the frame holding it has been handed out.
        unsent_id: Option<EventId>,
        max_frame_bytes: usize,
        state: State<S::Error>,
        compression: Compression,
        // Present while compressed frames are sent: every frame goes through
        // it and is flushed; it is taken to write the compressed stream's end.
        // Boxed: an identity body pays one word for it.
        compressor: Option<Box<FrameCompressor>>,
        // The stream's counters and gauge (nothing without the `metrics`
        // feature).
        metrics: StreamMetrics,
    }
}

enum State<E> {
    Streaming,
    Failed(E),
    Done,
}

impl<S> SseBody<S>
where
    S: TryStream,
    S::Ok: Encodable,
{
    /// A body over a stream of `Result<Event, E>` (or of [`EncodedEvent`]s).
    /// An `Err` ends the body with that error.
    ///
    /// [`EncodedEvent`]: crate::EncodedEvent
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            keep_alive: KeepAliveTimer::new(None),
            frames: FrameBuf::default(),
            preamble: None,
            next_id: None,
            last_sent: None,
            unsent_id: None,
            max_frame_bytes: DEFAULT_FRAME_BYTES,
            state: State::Streaming,
            compression: Compression::identity(),
            compressor: None,
            metrics: StreamMetrics::default(),
        }
    }
}

impl<S> SseBody<InfallibleStream<S>>
where
    S: Stream,
    S::Item: Encodable,
{
    /// A body over a stream that yields events, never errors.
    pub fn from_infallible_stream(stream: S) -> Self {
        SseBody::new(InfallibleStream::new(stream))
    }
}

impl<S: TryStream> SseBody<S> {
    /// Sends a comment whenever the stream has been idle for the interval.
    /// Off unless set.
    ///
    /// # Panics
    ///
    /// Polling a body with keep-alive panics outside a tokio runtime with the
    /// time driver enabled (every axum, hyper and actix-web server has one).
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive.set_config(Some(keep_alive));
        self
    }

    /// Sends `retry:` first, telling clients how long to wait before they
    /// reconnect. It is a line of its own with no blank line after it, so that
    /// no client reports it as an event (see [the framing rules](crate#framing)).
    pub fn retry(mut self, delay: Duration) -> Self {
        let preamble = self.preamble.take().map(|event| *event).unwrap_or_default();
        self.preamble = Some(Box::new(preamble.retry(delay)));
        self
    }

    /// Sends a comment first, so that the response head and a first chunk
    /// leave at once: `EventSource.onopen` fires and proxies commit the
    /// response before the first event exists. Like `retry`, it has no
    /// blank line after it.
    pub fn initial_comment(mut self, comment: impl IntoText) -> Self {
        let preamble = self.preamble.take().map(|event| *event).unwrap_or_default();
        self.preamble = Some(Box::new(preamble.comment(comment)));
        self
    }

    /// Gives every event that has data and no id the next number of a
    /// sequence starting at `first`. Events with their own id keep it; an
    /// event without data (only comments or `retry`) is no event to clients
    /// and takes no number.
    pub fn sequence_ids(mut self, first: u64) -> Self {
        self.next_id = Some(first);
        self
    }

    /// Keeps `handle` up to date with the id of the last event sent.
    pub fn track_last_sent_id(mut self, handle: LastSentId) -> Self {
        self.last_sent = Some(handle);
        self
    }

    /// The size frames grow to when events are ready faster than they are sent
    /// (32 KiB unless set). One event larger than this is one frame.
    pub fn max_frame_bytes(mut self, max: usize) -> Self {
        self.max_frame_bytes = max.max(1);
        self.frames.set_frame_size(self.max_frame_bytes);
        self
    }

    /// Compresses the stream as `compression` says (negotiated from the
    /// request with [`Compression::from_accept_encoding`] or
    /// [`Codecs::negotiate`](crate::compression::Codecs::negotiate)): one
    /// compressor for the whole stream, flushed after every frame. See the
    /// [compression module](crate::compression).
    ///
    /// [`into_response`](Self::into_response) sets `Content-Encoding` and
    /// `Vary`; a server that builds its response otherwise sets them with
    /// [`Compression::insert_headers`] on [`get_compression`](Self::get_compression).
    ///
    /// ```
    /// use futures_util::stream;
    /// use http::HeaderMap;
    /// use sse_engine::compression::Compression;
    /// use sse_engine::{Event, SseBody};
    ///
    /// let mut request_headers = HeaderMap::new();
    /// request_headers.insert("accept-encoding", "gzip, deflate, br, zstd".parse().unwrap());
    /// let events = stream::iter([Event::new().data("hello")]);
    /// let response = SseBody::from_infallible_stream(events)
    ///     .compression(Compression::from_accept_encoding(&request_headers))
    ///     .into_response();
    /// assert_eq!(response.headers()["vary"], "accept-encoding");
    /// # #[cfg(feature = "gzip")]
    /// assert_eq!(response.headers()["content-encoding"], "gzip");
    /// ```
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compressor = compression
            .codec()
            .and_then(FrameCompressor::new)
            .map(Box::new);
        self.compression = match self.compressor {
            Some(_) => compression,
            // The codec's library could not set up a stream: identity.
            None => compression.to_identity(),
        };
        self
    }

    /// How the stream is compressed (identity unless
    /// [`compression`](Self::compression) was set).
    pub fn get_compression(&self) -> Compression {
        self.compression
    }

    /// The response with this body and the SSE headers (see
    /// [`response_builder`](crate::response_builder)), and those of its
    /// [compression](Self::compression).
    pub fn into_response(self) -> http::Response<Self> {
        let compression = self.compression;
        let mut response = crate::sse_response(self);
        compression.insert_headers(response.headers_mut());
        response
    }

    /// Counts with `metrics` (a hub subscription's: its hub's handles, and
    /// where it notes why it ended).
    pub(crate) fn with_metrics(mut self, metrics: StreamMetrics) -> Self {
        self.metrics.replace(metrics);
        self
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream; events already taken from it but not yet sent are dropped.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S> SseBody<S>
where
    S: TryStream,
    S::Ok: Encodable,
{
    /// The body's frames as they are, uncompressed: the whole body of an
    /// identity stream, and what a compressed one compresses.
    #[inline(always)]
    fn poll_plain(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, S::Error>>> {
        let mut this = self.project();

        if this.frames.is_empty() {
            if let Some(preamble) = this.preamble.take() {
                (*preamble).encode_into(None, this.frames);
            }
            while matches!(this.state, State::Streaming)
                && this.frames.len() < *this.max_frame_bytes
            {
                match this.stream.as_mut().try_poll_next(cx) {
                    Poll::Ready(Some(Ok(item))) => {
                        let fallback = match (item.event_id(), this.next_id.as_mut()) {
                            (None, Some(next)) if item.dispatches() => {
                                let id = EventId::from(*next);
                                *next = next.wrapping_add(1);
                                Some(id)
                            }
                            _ => None,
                        };
                        if this.last_sent.is_some() {
                            if let Some(id) = item.event_id().or(fallback.as_ref()) {
                                *this.unsent_id = Some(id.clone());
                            }
                        }
                        let last_ready = item.last_ready();
                        item.encode_into(fallback.as_ref(), this.frames);
                        if last_ready {
                            // Nothing more to coalesce: the next poll asks.
                            break;
                        }
                    }
                    Poll::Ready(Some(Err(error))) => *this.state = State::Failed(error),
                    Poll::Ready(None) => *this.state = State::Done,
                    Poll::Pending => break,
                }
            }
        }

        if let Some(frame) = this.frames.pop() {
            if this.frames.is_empty() {
                if let (Some(handle), Some(id)) = (this.last_sent.as_ref(), this.unsent_id.take()) {
                    handle.set(id);
                }
            }
            this.keep_alive.record_activity();
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }

        match std::mem::replace(this.state, State::Done) {
            State::Failed(error) => return Poll::Ready(Some(Err(error))),
            State::Done => return Poll::Ready(None),
            State::Streaming => *this.state = State::Streaming,
        }

        match this.keep_alive.poll_idle(cx) {
            Poll::Ready(comment) => {
                this.metrics.keep_alive();
                Poll::Ready(Some(Ok(Frame::data(comment))))
            }
            Poll::Pending => {
                this.frames.release_idle();
                Poll::Pending
            }
        }
    }
}

impl<S> Body for SseBody<S>
where
    S: TryStream,
    S::Ok: Encodable,
{
    type Data = Bytes;
    type Error = S::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, S::Error>>> {
        // One check per frame is all that identity streams pay.
        let compressed = self.compressor.is_some();
        let mut this = self;
        this.as_mut().project().metrics.polled();
        let polled = if compressed {
            this.as_mut().poll_compressed(cx)
        } else {
            this.as_mut().poll_plain(cx)
        };
        let this = this.project();
        let metrics = this.metrics;
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let bytes = frame.data_ref().map_or(0, Bytes::len);
                let codec = if compressed {
                    this.compression.codec()
                } else {
                    None
                };
                metrics.written(bytes, codec);
            }
            Poll::Ready(Some(Err(_))) => metrics.ended(true),
            Poll::Ready(None) => metrics.ended(false),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
            && self.frames.is_empty()
            && self.preamble.is_none()
            && self.compressor.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if self.is_end_stream() {
            SizeHint::with_exact(0)
        } else {
            SizeHint::default()
        }
    }
}

impl<S: TryStream> fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("stream", &type_name::<S>())
            .field("keep_alive", &self.keep_alive)
            .field("buffered_bytes", &self.frames.len())
            .field("next_id", &self.next_id)
            .field("max_frame_bytes", &self.max_frame_bytes)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}
