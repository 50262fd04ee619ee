//! The names of the first release, kept for one deprecation period: each
//! still works as it did, and its warning names the replacement.
#![allow(deprecated)]

use std::convert::Infallible;
use std::fmt;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use http::request::Parts;

use crate::extract::{CursorRejection, RequestCursor, Resume, ResumeRejection, cursor_of};
use crate::{IntoText, hub};

/// Renamed to [`Resume<RequestCursor>`](Resume): the name `Cursor` collided
/// with `std::io::Cursor`.
#[deprecated(note = "renamed to `Resume<RequestCursor>` (`sse_axum::Resume`)")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub RequestCursor);

impl<S: Send + Sync> FromRequestParts<S> for Cursor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self(cursor_of(parts)))
    }
}

/// Renamed to [`Resume<LastEventId>`](Resume): this extractor shadowed
/// sse-engine's `LastEventId`, the type it holds.
#[deprecated(
    note = "renamed to `Resume<LastEventId>` (`sse_axum::Resume`, `sse_axum::extract::LastEventId`)"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEventId(pub sse_engine::LastEventId);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = LastEventIdRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <Resume<sse_engine::LastEventId> as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(|Resume(id)| Self(id))
            .map_err(|ResumeRejection(reason)| LastEventIdRejection(reason))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for LastEventId {
    type Rejection = LastEventIdRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        <Resume<sse_engine::LastEventId> as OptionalFromRequestParts<S>>::from_request_parts(
            parts, state,
        )
        .await
        .map(|resume| resume.map(|Resume(id)| Self(id)))
        .map_err(|ResumeRejection(reason)| LastEventIdRejection(reason))
    }
}

/// Renamed to [`ResumeRejection`], the rejection of [`Resume`].
#[deprecated(note = "renamed to `ResumeRejection`")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEventIdRejection(pub CursorRejection);

impl fmt::Display for LastEventIdRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for LastEventIdRejection {}

impl IntoResponse for LastEventIdRejection {
    fn into_response(self) -> Response {
        ResumeRejection(self.0).into_response()
    }
}

/// Renamed: `endpoint_route(Endpoint::new(hub, topics))` is the same route.
#[deprecated(note = "renamed to `endpoint_route(Endpoint::new(hub, topics))`")]
pub fn hub_route<S, T>(hub: hub::Hub, topics: impl IntoIterator<Item = T>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    T: IntoText,
{
    crate::endpoint_route(hub::Endpoint::new(hub, topics))
}
