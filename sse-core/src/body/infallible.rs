//! [`InfallibleStream`]: a stream of events seen as a stream that never fails.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

pin_project! {
    /// Wraps each item of a stream in `Ok`. Made by
    /// [`SseBody::from_infallible_stream`](crate::SseBody::from_infallible_stream).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct InfallibleStream<S> {
        #[pin]
        inner: S,
    }
}

impl<S> InfallibleStream<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Stream> Stream for InfallibleStream<S> {
    type Item = Result<S::Item, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().inner.poll_next(cx).map(|item| item.map(Ok))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
