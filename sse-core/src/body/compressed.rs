//! The compressed path of [`SseBody`]: every frame of the identity path,
//! compressed and flushed, and the compressed stream's end. Out of line and
//! cold, so that identity streams keep their code as it was.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::TryStream;
use http_body::Frame;

use super::{Encodable, SseBody, State};
use crate::compression::FrameCompressor;

impl<S> SseBody<S>
where
    S: TryStream,
    S::Ok: Encodable,
{
    /// The next frame, compressed and flushed: the client can decode all
    /// that was sent, and nothing waits in the compressor. After the last
    /// frame, the compressed stream's end.
    #[cold]
    #[inline(never)]
    pub(super) fn poll_compressed(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, S::Error>>> {
        let polled = self.as_mut().poll_plain(cx);
        let this = self.project();
        let Some(compressor) = this.compressor.as_deref_mut() else {
            return polled;
        };
        let data = match polled {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => data,
                // An event stream has no trailers; pass anything else on.
                Err(frame) => return Poll::Ready(Some(Ok(frame))),
            },
            Poll::Ready(None) => return finish(this.compressor),
            other => return other,
        };
        // The rest of what is ready (the pieces of a long shared line, sent
        // zero-copy by the identity path) joins this frame: one flush.
        let result = if this.frames.is_empty() {
            this.metrics.uncompressed(data.len());
            compressor.compress_frame(&data)
        } else {
            let mut all = Vec::with_capacity(data.len() + this.frames.len());
            all.extend_from_slice(&data);
            while let Some(piece) = this.frames.pop() {
                all.extend_from_slice(&piece);
            }
            if let (Some(handle), Some(id)) = (this.last_sent.as_ref(), this.unsent_id.take()) {
                handle.set(id);
            }
            this.metrics.uncompressed(all.len());
            compressor.compress_frame(&all)
        };
        match result {
            Ok(compressed) => Poll::Ready(Some(Ok(Frame::data(compressed)))),
            Err(error) => {
                // In memory, a codec fails only if it cannot allocate. The
                // body ends: a client reconnects, while a stream it cannot
                // decode would never recover.
                tracing::error!(%error, codec = %compressor.codec(), "compression failed; ending the stream");
                *this.state = State::Done;
                *this.compressor = None;
                *this.frames = Default::default();
                *this.preamble = None;
                this.metrics.ended(true);
                Poll::Ready(None)
            }
        }
    }
}

/// The compressed stream's last bytes (gzip's trailer, for example), if any;
/// the compressor is gone after it.
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
