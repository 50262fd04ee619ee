//! [`Sse`]: an event stream as an axum response.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_core::{Stream, TryStream};
use sse_core::{Encodable, InfallibleStream, SseBody};

/// An event stream as an axum response, with the SSE headers.
///
/// ```
/// use std::time::Duration;
/// use axum::{Router, routing::get};
/// use futures_util::stream;
/// use sse_axum::Sse;
/// use sse_core::{Event, KeepAlive, SseBody};
///
/// async fn ticks() -> Sse<impl futures_util::TryStream<Ok = Event, Error = std::convert::Infallible>> {
///     let events = stream::iter((1..=3u64).map(|n| Ok(Event::new().id(n).data("tick"))));
///     Sse::from(SseBody::new(events).keep_alive(KeepAlive::new()))
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
