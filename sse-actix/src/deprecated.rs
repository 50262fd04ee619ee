//! The names of the first release, kept for one deprecation period: each
//! still works as it did, and its warning names the replacement.
#![allow(deprecated)]

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{Either, FromRequest, HttpRequest, HttpResponse, Resource, ResponseError, Route};
use sse_engine::hub::{Endpoint, Hub, Subscription};
use sse_engine::{InfallibleStream, IntoText};

use crate::Sse;
use crate::endpoint::respond;
use crate::extract::{CursorRejection, RequestCursor, cursor_of};

/// Renamed to [`Resume<RequestCursor>`](crate::Resume): the name `Cursor`
/// collided with `std::io::Cursor`.
#[deprecated(note = "renamed to `Resume<RequestCursor>` (`sse_actix::Resume`)")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub RequestCursor);

impl FromRequest for Cursor {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self(cursor_of(request))))
    }
}

/// Renamed to [`Resume<LastEventId>`](crate::Resume): this extractor
/// shadowed sse-engine's `LastEventId`, the type it holds.
#[deprecated(
    note = "renamed to `Resume<LastEventId>` (`sse_actix::Resume`, `sse_actix::extract::LastEventId`)"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEventId(pub sse_engine::LastEventId);

impl FromRequest for LastEventId {
    type Error = LastEventIdRejection;
    type Future = Ready<Result<Self, LastEventIdRejection>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            cursor_of(request)
                .require()
                .map(Self)
                .map_err(LastEventIdRejection),
        )
    }
}

/// Renamed to [`ResumeRejection`](crate::ResumeRejection), the rejection of
/// [`Resume`](crate::Resume).
#[deprecated(note = "renamed to `ResumeRejection`")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEventIdRejection(pub CursorRejection);

impl fmt::Display for LastEventIdRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl ResponseError for LastEventIdRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// Replaced by the functions [`endpoint_route`](crate::endpoint_route) and
/// [`endpoint_resource`](crate::endpoint_resource), which take the
/// [`Endpoint`] itself.
#[deprecated(
    note = "use `sse_actix::endpoint_resource(path, endpoint)` or `sse_actix::endpoint_route(endpoint)`"
)]
#[derive(Clone, Debug)]
pub struct HubEndpoint {
    endpoint: Endpoint,
}

/// The answer of a [`HubEndpoint`]: the event stream, or an error.
#[deprecated(note = "`HubEndpoint` is replaced by `endpoint_route` and `endpoint_resource`")]
pub type HubResponse = Either<Sse<InfallibleStream<Subscription>>, HttpResponse>;

impl HubEndpoint {
    /// Serves `topics` of `hub`, with the [`Endpoint`] defaults.
    pub fn new<T: IntoText>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Self {
        Self::from(Endpoint::new(hub, topics))
    }

    /// The stream for a request's cursor, or the refusal; `Endpoint::open`
    /// does the same.
    pub fn respond(&self, cursor: RequestCursor) -> HubResponse {
        respond(&self.endpoint, cursor)
    }

    /// [`endpoint_resource`](crate::endpoint_resource)`(path, endpoint)`.
    pub fn resource(self, path: &str) -> Resource {
        crate::endpoint_resource(path, self.endpoint)
    }

    /// [`endpoint_route`](crate::endpoint_route)`(endpoint)`.
    pub fn route(self) -> Route {
        crate::endpoint_route(self.endpoint)
    }
}

impl From<Endpoint> for HubEndpoint {
    fn from(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

/// Renamed: `endpoint_route(Endpoint::new(hub, topics))` is the same route.
#[deprecated(note = "renamed to `endpoint_route(Endpoint::new(hub, topics))`")]
pub fn hub_route<T: IntoText>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Route {
    crate::endpoint_route(Endpoint::new(hub, topics))
}
