//! [`Sse`]: an event stream as an axum response.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_core::{Stream, TryStream};
use std::time::Duration;

use sse_engine::compression::Compression;
use sse_engine::{Encodable, InfallibleStream, IntoText, KeepAlive, SseBody};

/// An event stream as an axum response, with the SSE headers.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use axum::{Router, routing::get};
/// use futures_util::{Stream, stream};
/// use sse_axum::{Event, KeepAlive, Sse};
///
/// async fn ticks() -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
///     let events = stream::iter((1..=3u64).map(|n| Ok(Event::new().id(n).data("tick"))));
///     Sse::new(events)
///         .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
///         .retry(Duration::from_secs(2))
/// }
///
/// let app: Router = Router::new().route("/ticks", get(ticks));
/// ```
///
/// It works from any handler, `POST` included, for clients that stream a
/// response to `fetch`.
#[must_use]
pub struct Sse<S: TryStream>(pub SseBody<S>);

impl<S> Sse<S>
where
    S: TryStream,
    S::Ok: Encodable,
{
    /// A response over a stream of `Result<Event, E>`.
    pub fn new(stream: S) -> Self {
        Self(SseBody::new(stream))
    }
}

/// The builder methods of [`SseBody`], so that a response reads as in axum:
/// `Sse::new(stream).keep_alive(KeepAlive::default())`.
impl<S: TryStream> Sse<S> {
    /// Sends a comment whenever the stream has been idle for the interval
    /// ([`SseBody::keep_alive`]).
    pub fn keep_alive(self, keep_alive: KeepAlive) -> Self {
        Self(self.0.keep_alive(keep_alive))
    }

    /// Sends `retry:` first ([`SseBody::retry`]).
    pub fn retry(self, delay: Duration) -> Self {
        Self(self.0.retry(delay))
    }

    /// Sends a comment first, so the response leaves at once
    /// ([`SseBody::initial_comment`]).
    pub fn initial_comment(self, comment: impl IntoText) -> Self {
        Self(self.0.initial_comment(comment))
    }

    /// Numbers the events that have no id ([`SseBody::sequence_ids`]).
    pub fn sequence_ids(self, first: u64) -> Self {
        Self(self.0.sequence_ids(first))
    }

    /// Compresses the stream, flushed after every frame, as negotiated from
    /// the request's `Accept-Encoding` ([`SseBody::compression`]); the
    /// response says `Content-Encoding` and `Vary: Accept-Encoding`. Needs
    /// one of the features `gzip`, `br`, `zstd`.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use axum::http::HeaderMap;
    /// use futures_util::{Stream, stream};
    /// use sse_axum::compression::Compression;
    /// use sse_axum::{Event, Sse};
    ///
    /// async fn ticks(headers: HeaderMap) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    ///     let events = stream::iter((1..=3u64).map(|n| Ok(Event::new().id(n).data("tick"))));
    ///     Sse::new(events).compression(Compression::from_accept_encoding(&headers))
    /// }
    /// # let _: axum::Router = axum::Router::new().route("/ticks", axum::routing::get(ticks));
    /// ```
    pub fn compression(self, compression: Compression) -> Self {
        Self(self.0.compression(compression))
    }
}

impl<S> Sse<InfallibleStream<S>>
where
    S: Stream,
    S::Item: Encodable,
{
    /// A response over a stream of events that never fails.
    pub fn from_infallible_stream(stream: S) -> Self {
        Self(SseBody::from_infallible_stream(stream))
    }
}

impl<S: TryStream> From<SseBody<S>> for Sse<S> {
    fn from(body: SseBody<S>) -> Self {
        Self(body)
    }
}

impl<S> IntoResponse for Sse<S>
where
    S: TryStream + Send + 'static,
    S::Ok: Encodable,
    S::Error: Into<axum::BoxError> + Send,
{
    fn into_response(self) -> Response {
        self.0.into_response().map(Body::new)
    }
}

impl<S: TryStream> std::fmt::Debug for Sse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Sse").field(&self.0).finish()
    }
}
