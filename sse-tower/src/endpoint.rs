//! [`EndpointService`]: a hub [`Endpoint`] as a tower `Service`.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;
use sse_engine::compression::Compression;
use sse_engine::hub::{Endpoint, EndpointBody, Hub, Refusal, SubscribeError};
use sse_engine::{IntoText, RequestCursor};
use tower_service::Service;

/// A hub [`Endpoint`] as a tower `Service`: serves topics of a [`Hub`] as an
/// event stream, resuming from each request's cursor (the `Last-Event-ID` header, or the `lastEventId` query
/// parameter; read from the [`RequestCursor`] extension when
/// [`ParseLastEventIdLayer`](crate::last_event_id::ParseLastEventIdLayer) ran
/// first). A cursor that cannot be honoured gets the hub's gap signal. How
/// each stream runs (retry, lifetime, keep-alive) is an [`Endpoint`]'s.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::hub::{Endpoint, Hub};
/// use sse_tower::EndpointService;
///
/// let hub = Hub::new();
/// let events = EndpointService::new(hub.clone(), ["chat"]);
/// let configured = EndpointService::from(Endpoint::new(hub, ["chat"]).retry(Duration::from_secs(2)));
/// // axum:  Router::new().route_service("/events", events)
/// // hyper: serve it with hyper_util's TowerToHyperService
/// # drop((events, configured));
/// ```
///
/// It answers `GET` with the stream and `HEAD` with the same status and head
/// and no body (the subscription is dropped unread); any other method gets `405 Method Not
/// Allowed` with `Allow: GET,HEAD`, so that a `POST` mounted on the same
/// path by mistake is never a subscription. When the hub is closed it answers
/// `503 Service Unavailable` with `Retry-After`; for a topic the hub does not
/// have (and does not create) it answers `404 Not Found`.
#[derive(Clone, Debug)]
pub struct EndpointService {
    endpoint: Endpoint,
}

impl EndpointService {
    /// Serves `topics` of `hub`, with the [`Endpoint`] defaults.
    pub fn new<T: IntoText>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Self {
        Self::from(Endpoint::new(hub, topics))
    }

    fn respond(
        &self,
        cursor: RequestCursor,
        compression: Compression,
    ) -> Response<EndpointServiceBody> {
        match self.endpoint.open(cursor) {
            Ok(body) => {
                let body = body.compression(compression);
                let compression = body.get_compression();
                let mut response = sse_engine::sse_response(EndpointServiceBody {
                    kind: Kind::Events { body },
                });
                compression.insert_headers(response.headers_mut());
                response
            }
            Err(error) => error_response(error),
        }
    }
}

impl From<Endpoint> for EndpointService {
    fn from(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

/// `405`, with the methods an event stream answers.
fn method_not_allowed() -> Response<EndpointServiceBody> {
    let mut response = Response::new(EndpointServiceBody::empty());
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET,HEAD"));
    response
}

fn error_response(error: SubscribeError) -> Response<EndpointServiceBody> {
    Refusal::from(error)
        .into_response()
        .map(|message| EndpointServiceBody {
            kind: Kind::Error {
                body: Full::new(message),
            },
        })
}

impl<B> Service<Request<B>> for EndpointService {
    type Response = Response<EndpointServiceBody>;
    type Error = Infallible;
    type Future = Ready<Result<Response<EndpointServiceBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let head_only = request.method() == Method::HEAD;
        if !head_only && request.method() != Method::GET {
            return ready(Ok(method_not_allowed()));
        }
        let cursor = match request.extensions().get::<RequestCursor>() {
            Some(cursor) => cursor.clone(),
            None => RequestCursor::from_request(request.headers(), request.uri()),
        };
        let compression = self.endpoint.negotiate(request.headers());
        let response = self.respond(cursor, compression);
        if head_only {
            // The status and head a `GET` would get (a closed hub is a 503),
            // without the stream: the subscription ends here, unread.
            let (parts, _) = response.into_parts();
            return ready(Ok(Response::from_parts(
                parts,
                EndpointServiceBody::empty(),
            )));
        }
        ready(Ok(response))
    }
}

pin_project! {
    /// Response body of [`EndpointService`]: the event stream, or an error message.
    pub struct EndpointServiceBody {
        #[pin]
        kind: Kind,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind {
        Events {
            #[pin]
            body: EndpointBody,
        },
        Error {
            #[pin]
            body: Full<Bytes>,
        },
    }
}

impl EndpointServiceBody {
    /// No bytes: the body of a `HEAD` or `405` answer.
    fn empty() -> Self {
        Self {
            kind: Kind::Error {
                body: Full::new(Bytes::new()),
            },
        }
    }
}

impl Body for EndpointServiceBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.project().kind.project() {
            KindProj::Events { body } => body.poll_frame(cx),
            KindProj::Error { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Events { body } => body.is_end_stream(),
            Kind::Error { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Events { body } => body.size_hint(),
            Kind::Error { body } => body.size_hint(),
        }
    }
}

impl std::fmt::Debug for EndpointServiceBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Events { body } => f.debug_tuple("EndpointServiceBody").field(body).finish(),
            Kind::Error { .. } => f
                .debug_tuple("EndpointServiceBody")
                .field(&"error")
                .finish(),
        }
    }
}
