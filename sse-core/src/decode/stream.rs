//! [`EventStream`]: the decoder over a stream of chunks or an HTTP body.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use futures_core::{Stream, TryStream};
use http_body_util::BodyDataStream;
use pin_project_lite::pin_project;

use super::{DecodeError, DecodedEvent, Decoder, EventStreamError, Limits};

pin_project! {
    /// The events of a stream of byte chunks (or of an HTTP body), decoded as
    /// they arrive.
    ///
    /// ```
    /// use futures_util::{StreamExt, stream};
    /// use sse_engine::decode::EventStream;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let chunks = stream::iter([
    ///     Ok::<_, std::io::Error>(&b"data: {\"choices\":"[..]),
    ///     Ok(&b"[]}\n\ndata: [DONE]\n\n"[..]),
    /// ]);
    /// let events: Vec<_> = EventStream::new(chunks).collect().await;
    /// assert_eq!(events[0].as_ref().unwrap().data(), r#"{"choices":[]}"#);
    /// assert_eq!(events[1].as_ref().unwrap().data(), "[DONE]");
    /// # }
    /// ```
    ///
    /// An error of the underlying stream, or a broken limit, is yielded after
    /// the events completed before it, and ends the stream.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct EventStream<S> {
        #[pin]
        inner: S,
        decoder: Decoder,
        failed: Option<DecodeError>,
        done: bool,
    }
}

impl<S> EventStream<S> {
    /// Decodes `inner`, a stream of `Result<impl Buf, E>` (for example
    /// `reqwest::Response::bytes_stream()`), with the default [`Limits`].
    pub fn new(inner: S) -> Self {
        Self::with_limits(inner, Limits::new())
    }

    /// Decodes `inner` with the given limits.
    pub fn with_limits(inner: S, limits: Limits) -> Self {
        Self {
            inner,
            decoder: Decoder::with_limits(limits),
            failed: None,
            done: false,
        }
    }

    /// The decoder, for its sticky last event id and reconnection time.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The underlying stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<B> EventStream<BodyDataStream<B>> {
    /// Decodes an HTTP body (a hyper `Incoming`, an axum `Body`); trailers are
    /// skipped.
    pub fn from_body(body: B) -> Self {
        Self::new(BodyDataStream::new(body))
    }
}

impl<S> Stream for EventStream<S>
where
    S: TryStream,
    S::Ok: Buf,
{
    type Item = Result<DecodedEvent, EventStreamError<S::Error>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if let Some(event) = this.decoder.next_event() {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(error) = this.failed.take() {
                return Poll::Ready(Some(Err(EventStreamError::Decode(error))));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().try_poll_next(cx)) {
                Some(Ok(mut chunk)) => {
                    while chunk.has_remaining() {
                        let piece = chunk.chunk();
                        let len = piece.len();
                        if let Err(error) = this.decoder.push(piece) {
                            *this.failed = Some(error);
                            *this.done = true;
                            break;
                        }
                        chunk.advance(len);
                    }
                }
                Some(Err(error)) => {
                    *this.done = true;
                    this.decoder.finish();
                    return Poll::Ready(Some(Err(EventStreamError::Transport(error))));
                }
                None => {
                    *this.done = true;
                    this.decoder.finish();
                }
            }
        }
    }
}
