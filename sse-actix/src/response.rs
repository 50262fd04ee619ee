//! [`Sse`]: an event stream as an actix-web response body and responder.

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, HeaderMap, HeaderName, HeaderValue, VARY,
};
use actix_web::{HttpRequest, HttpResponse, Responder};
use bytes::Bytes;
use futures_core::{Stream, TryStream};
use http_body::Body;
use pin_project_lite::pin_project;
use sse_engine::compression::{Codecs, Compression};
use sse_engine::{Encodable, InfallibleStream, IntoText, KeepAlive, SSE_HEADERS, SseBody};

pin_project! {
    /// An event stream as an actix-web response: a [`Responder`] with the SSE
    /// headers and its own `Content-Encoding` (`identity` unless it is
    /// compressed, see [`Sse::negotiate_compression`]), so that actix's
    /// `Compress` middleware leaves it alone: that middleware would compress
    /// it a second time, or buffer it. A [`MessageBody`] whose chunks are the
    /// frames `sse-engine` built, not copied again.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::time::Duration;
    /// use actix_web::{App, web};
    /// use futures_util::{Stream, stream};
    /// use sse_actix::{Event, KeepAlive, Sse};
    ///
    /// async fn ticks() -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    ///     let events = stream::iter((1..=3u64).map(|n| Ok(Event::new().id(n).data("tick"))));
    ///     Sse::new(events)
    ///         .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    ///         .retry(Duration::from_secs(2))
    /// }
    ///
    /// let app = App::new().route("/ticks", web::get().to(ticks));
    /// # drop(app);
    /// ```
    #[must_use]
    pub struct Sse<S: TryStream> {
        #[pin]
        body: SseBody<S>,
        // Negotiated from the request when responding.
        codecs: Option<Codecs>,
    }
}

impl<S> Sse<S>
where
    S: TryStream,
    S::Ok: Encodable,
{
    /// A response over a stream of `Result<Event, E>`.
    pub fn new(stream: S) -> Self {
        Self::from(SseBody::new(stream))
    }
}

/// The builder methods of [`SseBody`], so that a response reads as in
/// actix-web-lab: `Sse::new(stream).keep_alive(KeepAlive::default())`.
impl<S: TryStream> Sse<S> {
    /// Sends a comment whenever the stream has been idle for the interval
    /// ([`SseBody::keep_alive`]).
    pub fn keep_alive(self, keep_alive: KeepAlive) -> Self {
        Self {
            body: self.body.keep_alive(keep_alive),
            ..self
        }
    }

    /// Sends `retry:` first ([`SseBody::retry`]).
    pub fn retry(self, delay: Duration) -> Self {
        Self {
            body: self.body.retry(delay),
            ..self
        }
    }

    /// Sends a comment first, so the response leaves at once
    /// ([`SseBody::initial_comment`]).
    pub fn initial_comment(self, comment: impl IntoText) -> Self {
        Self {
            body: self.body.initial_comment(comment),
            ..self
        }
    }

    /// Numbers the events that have no id ([`SseBody::sequence_ids`]).
    pub fn sequence_ids(self, first: u64) -> Self {
        Self {
            body: self.body.sequence_ids(first),
            ..self
        }
    }

    /// Compresses the stream with one of `codecs`, negotiated from the
    /// request's `Accept-Encoding` when responding: one compressor per
    /// stream, flushed after every frame ([`SseBody::compression`]). The
    /// response says `Content-Encoding` (`identity` when the client asked for
    /// none of them) and `Vary: Accept-Encoding`. Needs one of the features
    /// `gzip`, `br`, `zstd`.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use actix_web::{App, web};
    /// use futures_util::{Stream, stream};
    /// use sse_actix::compression::Codecs;
    /// use sse_actix::{Event, Sse};
    ///
    /// async fn ticks() -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    ///     let events = stream::iter((1..=3u64).map(|n| Ok(Event::new().id(n).data("tick"))));
    ///     Sse::new(events).negotiate_compression(Codecs::new())
    /// }
    ///
    /// let app = App::new().route("/ticks", web::get().to(ticks));
    /// # drop(app);
    /// ```
    pub fn negotiate_compression(self, codecs: Codecs) -> Self {
        Self {
            codecs: Some(codecs),
            ..self
        }
    }

    /// Compresses the stream as already negotiated ([`SseBody::compression`]);
    /// [`negotiate_compression`](Self::negotiate_compression) negotiates
    /// from the request itself.
    pub fn compression(self, compression: Compression) -> Self {
        Self {
            body: self.body.compression(compression),
            codecs: None,
        }
    }
}

impl<S> Sse<InfallibleStream<S>>
where
    S: Stream,
    S::Item: Encodable,
{
    /// A response over a stream of events that never fails.
    pub fn from_infallible_stream(stream: S) -> Self {
        Self::from(SseBody::from_infallible_stream(stream))
    }
}

impl<S: TryStream> From<SseBody<S>> for Sse<S> {
    fn from(body: SseBody<S>) -> Self {
        Self { body, codecs: None }
    }
}

impl<S> MessageBody for Sse<S>
where
    S: TryStream,
    S::Ok: Encodable,
    S::Error: Into<Box<dyn StdError>>,
{
    type Error = Box<dyn StdError>;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let mut body = self.project().body;
        loop {
            return match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    // actix-web's chunked encoder reads an empty chunk as the
                    // end of the body: never pass one on.
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    // An event stream has no trailers; skip anything else.
                    Err(_) => continue,
                },
                Some(Err(error)) => Poll::Ready(Some(Err(error.into()))),
                None => Poll::Ready(None),
            };
        }
    }
}

impl<S> Responder for Sse<S>
where
    S: TryStream + 'static,
    S::Ok: Encodable,
    S::Error: Into<Box<dyn StdError>>,
{
    type Body = Self;

    fn respond_to(mut self, request: &HttpRequest) -> HttpResponse<Self> {
        if let Some(codecs) = self.codecs.take() {
            let accept_encoding = request.headers().get_all(ACCEPT_ENCODING);
            let compression =
                codecs.negotiate_accept_encoding(accept_encoding.map(HeaderValue::as_bytes));
            self.body = self.body.compression(compression);
        }
        let compression = self.body.get_compression();
        let mut response = HttpResponse::with_body(StatusCode::OK, self);
        insert_sse_headers(response.headers_mut(), compression);
        response
    }
}

/// sse-engine's SSE headers, in actix-web's header types, and the stream's
/// `Content-Encoding` (`identity` when uncompressed) for actix's `Compress`.
pub(crate) fn insert_sse_headers(headers: &mut HeaderMap, compression: Compression) {
    for (name, value) in SSE_HEADERS {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.insert(name, value);
        }
    }
    let coding = compression
        .codec()
        .map_or("identity", |codec| codec.as_str());
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    if compression.is_negotiated() {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
}

impl<S: TryStream> std::fmt::Debug for Sse<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Sse").field(&self.body).finish()
    }
}
