//! Reads the client's cursor once, into the request's extensions.
//!
//! The cursor is the `Last-Event-ID` header, or, when there is none, the
//! `lastEventId` (or `last_event_id`) query parameter. It is checked with
//! sse-engine's rules: at most 1 KiB of UTF-8 without CR, LF or NUL. The
//! handler reads a [`RequestCursor`]: absent, valid, or invalid with the
//! reason. An invalid cursor is never a panic nor a 500. The handler decides;
//! [`Hub::subscribe_with`](sse_engine::hub::Hub::subscribe_with) tells the
//! client of a gap.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use sse_engine::RequestCursor;
//! use sse_tower::last_event_id::ParseLastEventIdLayer;
//! use tower::{Service, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut service = ServiceBuilder::new()
//!     .layer(ParseLastEventIdLayer::new())
//!     .service_fn(|request: Request<()>| async move {
//!         let cursor = request.extensions().get::<RequestCursor>().cloned();
//!         Ok::<_, Infallible>(Response::new(format!("{cursor:?}")))
//!     });
//! let request = Request::get("/events").header("last-event-id", "7").body(()).unwrap();
//! let response = service.ready().await.unwrap().call(request).await.unwrap();
//! assert!(response.body().contains("Valid"));
//! # }
//! ```
//!
//! [`RequestCursor`]: sse_engine::RequestCursor

use std::task::{Context, Poll};

use http::Request;
use sse_engine::RequestCursor;
use tower_layer::Layer;
use tower_service::Service;

/// Applies [`ParseLastEventId`] to a service; see the [module docs](self).
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct ParseLastEventIdLayer;

impl ParseLastEventIdLayer {
    /// The layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for ParseLastEventIdLayer {
    type Service = ParseLastEventId<S>;

    fn layer(&self, inner: S) -> ParseLastEventId<S> {
        ParseLastEventId { inner }
    }
}

/// Inserts the request's [`RequestCursor`] into its extensions; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct ParseLastEventId<S> {
    inner: S,
}

impl<S> ParseLastEventId<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for ParseLastEventId<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        let cursor = RequestCursor::from_request(request.headers(), request.uri());
        if let RequestCursor::Invalid(error) = &cursor {
            tracing::debug!(%error, "request with an unusable Last-Event-ID");
        }
        request.extensions_mut().insert(cursor);
        self.inner.call(request)
    }
}
