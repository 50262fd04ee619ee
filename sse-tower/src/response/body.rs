//! [`SseResponseBody`]: the body of every response through the middleware.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use sse_engine::KeepAliveTimer;
use sse_engine::compression::FrameCompressor;
use sse_engine::jitter::shorten;
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::config::Config;
use crate::boundary::EventBoundary;

pin_project! {
    /// Response body of [`SseResponse`](super::SseResponse): any other
    /// response's body as it was; an event stream's body with keep-alive,
    /// lifetime and shutdown applied at event boundaries.
    pub struct SseResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Passthrough {
            #[pin]
            inner: B,
        },
        Stream {
            #[pin]
            inner: B,
            boundary: EventBoundary,
            // Boxed, like the two below: every response through the layer
            // is moved in this body, most of them are not event streams, and
            // a timer inline would make all of them larger.
            keep_alive: Pin<Box<KeepAliveTimer>>,
            lifetime: Option<Pin<Box<Sleep>>>,
            shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
            // Present while the stream is compressed: every data frame and
            // keep-alive comment goes through it, flushed; it is taken to
            // write the compressed stream's end.
            compressor: Option<Box<FrameCompressor>>,
            // The lifetime or shutdown asked the stream to end: it ends at the
            // next event boundary.
            ending: bool,
            done: bool,
        },
    }
}

impl<B> SseResponseBody<B> {
    pub(crate) fn is_compressed(&self) -> bool {
        matches!(
            &self.kind,
            Kind::Stream {
                compressor: Some(_),
                ..
            }
        )
    }

    pub(crate) fn passthrough(inner: B) -> Self {
        Self {
            kind: Kind::Passthrough { inner },
        }
    }

    pub(crate) fn stream(
        inner: B,
        config: &Config,
        compressor: Option<Box<FrameCompressor>>,
    ) -> Self {
        Self {
            kind: Kind::Stream {
                inner,
                boundary: EventBoundary::default(),
                keep_alive: Box::pin(KeepAliveTimer::new(config.keep_alive.clone())),
                lifetime: config
                    .max_lifetime
                    .map(|lifetime| Box::pin(tokio::time::sleep(shorten(lifetime, 0.1)))),
                shutdown: config
                    .shutdown
                    .as_ref()
                    .map(|token| Box::pin(token.clone().cancelled_owned())),
                compressor,
                ending: false,
                done: false,
            },
        }
    }
}

/// An empty, passed-through body: what middleware such as tower-http's
/// `TimeoutLayer` builds its own responses with.
impl<B: Default> Default for SseResponseBody<B> {
    fn default() -> Self {
        Self::passthrough(B::default())
    }
}

impl<B> Body for SseResponseBody<B>
where
    B: Body,
    B::Data: Buf,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Passthrough { inner } => inner
                .poll_frame(cx)
                .map(|frame| frame.map(|frame| frame.map(|frame| frame.map_data(into_bytes)))),
            KindProj::Stream {
                inner,
                boundary,
                keep_alive,
                lifetime,
                shutdown,
                compressor,
                ending,
                done,
            } => {
                if *done {
                    return Poll::Ready(None);
                }
                if !*ending {
                    let expired = lifetime
                        .as_mut()
                        .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready());
                    let cancelled = shutdown
                        .as_mut()
                        .is_some_and(|token| token.as_mut().poll(cx).is_ready());
                    if expired || cancelled {
                        tracing::debug!(
                            expired,
                            cancelled,
                            "ending the event stream at the next event boundary"
                        );
                        *ending = true;
                    }
                }
                if *ending && boundary.at_boundary() {
                    *done = true;
                    return finish(compressor);
                }
                match inner.poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => {
                        let frame = frame.map_data(into_bytes);
                        let Some(data) = frame.data_ref() else {
                            return Poll::Ready(Some(Ok(frame)));
                        };
                        boundary.feed(data);
                        keep_alive.as_mut().record_activity();
                        return match compressor.as_deref_mut() {
                            None => Poll::Ready(Some(Ok(frame))),
                            Some(compressor) => compressed(compressor, data, done),
                        };
                    }
                    Poll::Ready(Some(Err(error))) => {
                        *done = true;
                        return Poll::Ready(Some(Err(error)));
                    }
                    Poll::Ready(None) => {
                        *done = true;
                        return finish(compressor);
                    }
                    Poll::Pending => {}
                }
                // The handler has nothing to send. A comment may only go
                // between events: in the middle of one, keep-alive waits.
                if boundary.at_boundary() {
                    if let Poll::Ready(comment) = keep_alive.as_mut().poll_idle(cx) {
                        return match compressor.as_deref_mut() {
                            None => Poll::Ready(Some(Ok(Frame::data(comment)))),
                            Some(compressor) => compressed(compressor, &comment, done),
                        };
                    }
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Passthrough { inner } => inner.is_end_stream(),
            Kind::Stream { done, .. } => *done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Passthrough { inner } => inner.size_hint(),
            // Keep-alive comments are added, and the stream may be ended early.
            Kind::Stream { done: true, .. } => SizeHint::with_exact(0),
            Kind::Stream { .. } => SizeHint::default(),
        }
    }
}

/// `data` compressed and flushed. Should the codec fail (it runs in memory:
/// only if it cannot allocate), the stream ends: a client reconnects, while
/// a stream it cannot decode would never recover.
fn compressed<E>(
    compressor: &mut FrameCompressor,
    data: &[u8],
    done: &mut bool,
) -> Poll<Option<Result<Frame<Bytes>, E>>> {
    match compressor.compress_frame(data) {
        Ok(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
        Err(error) => {
            tracing::error!(%error, codec = %compressor.codec(), "compression failed; ending the stream");
            *done = true;
            Poll::Ready(None)
        }
    }
}

/// The end of the stream: the compressed stream's last bytes first, if any.
fn finish<E>(
    compressor: &mut Option<Box<FrameCompressor>>,
) -> Poll<Option<Result<Frame<Bytes>, E>>> {
    let Some(mut compressor) = compressor.take() else {
        return Poll::Ready(None);
    };
    match compressor.finish() {
        Ok(tail) if !tail.is_empty() => Poll::Ready(Some(Ok(Frame::data(tail)))),
        Ok(_) => Poll::Ready(None),
        Err(error) => {
            tracing::error!(%error, codec = %compressor.codec(), "compression failed at the end");
            Poll::Ready(None)
        }
    }
}

fn into_bytes<D: Buf>(mut data: D) -> Bytes {
    data.copy_to_bytes(data.remaining())
}

impl<B> std::fmt::Debug for SseResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, at_boundary) = match &self.kind {
            Kind::Passthrough { .. } => ("passthrough", None),
            Kind::Stream { boundary, .. } => ("event stream", Some(boundary.at_boundary())),
        };
        f.debug_struct("SseResponseBody")
            .field("kind", &kind)
            .field("at_boundary", &at_boundary)
            .field("inner", &std::any::type_name::<B>())
            .finish()
    }
}
