//! [`SseResponse`]: the service that applies the middleware.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use sse_engine::compression::Compression;
use tower_service::Service;

use super::ResponseFuture;
use super::config::Config;

/// Makes the event-stream responses of the inner service production-grade;
/// see the [module docs](super).
#[derive(Debug, Clone)]
pub struct SseResponse<S> {
    pub(crate) inner: S,
    // Shared: every request takes a handle, not a copy.
    pub(crate) config: Arc<Config>,
}

impl<S> SseResponse<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SseResponse<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<super::SseResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Negotiated now: the response does not carry the request's headers.
        let compression = match &self.config.codecs {
            Some(codecs) => codecs.negotiate(request.headers()),
            None => Compression::identity(),
        };
        ResponseFuture::new(self.inner.call(request), self.config.clone(), compression)
    }
}
