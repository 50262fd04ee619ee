//! The client's cursor as an extractor: [`Resume`].
//!
//! A reconnecting client sends the id of the last event it received, its
//! `Last-Event-ID` (a header, or the `lastEventId` query parameter for a
//! first connection that resumes). sse-engine reads it as a
//! [`RequestCursor`] (absent, valid or invalid) or, when it is usable, a
//! [`LastEventId`]; [`Resume`] extracts either:
//!
//! | handler argument | without a cursor | with an unusable one |
//! | --- | --- | --- |
//! | `Resume<RequestCursor>` (or `Resume`) | `RequestCursor::Absent` | `RequestCursor::Invalid` |
//! | `Resume<LastEventId>` | `400` | `400` |
//! | `Option<Resume<LastEventId>>` | `None` | `400` |
//!
//! The types it holds are re-exported here, so that this crate is the only
//! one a handler needs.

use std::convert::Infallible;
use std::fmt;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

pub use sse_engine::{CursorRejection, LastEventId, LastEventIdError, RequestCursor};

/// The client's cursor, as a [`RequestCursor`] (never rejects) or as a
/// usable [`LastEventId`] (`400 Bad Request` without one); see the [module
/// docs](self).
///
/// Taken from the `sse-tower`
/// [`ParseLastEventIdLayer`](sse_tower::last_event_id::ParseLastEventIdLayer)'s
/// extension when that layer ran, so every reader of a request agrees;
/// otherwise read from the `Last-Event-ID` header or the `lastEventId`
/// query parameter.
///
/// ```
/// use axum::{Router, routing::get};
/// use sse_axum::extract::{LastEventId, RequestCursor, Resume};
///
/// async fn events(Resume(cursor): Resume<RequestCursor>) -> String {
///     match cursor {
///         RequestCursor::Absent => "first connection".into(),
///         RequestCursor::Valid(id) => format!("resume after {id}"),
///         RequestCursor::Invalid(error) => format!("unusable cursor: {error}"),
///     }
/// }
///
/// async fn strict(resume: Option<Resume<LastEventId>>) -> String {
///     match resume {
///         Some(Resume(id)) => format!("resume after {id}"),
///         None => "first connection".into(),
///     }
/// }
/// let app: Router = Router::new()
///     .route("/events", get(events))
///     .route("/strict", get(strict));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume<T = RequestCursor>(pub T);

impl<S: Send + Sync> FromRequestParts<S> for Resume<RequestCursor> {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self(cursor_of(parts)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Resume<LastEventId> {
    type Rejection = ResumeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        cursor_of(parts)
            .require()
            .map(Self)
            .map_err(ResumeRejection)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Resume<LastEventId> {
    type Rejection = ResumeRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match cursor_of(parts) {
            RequestCursor::Absent => Ok(None),
            cursor => cursor
                .require()
                .map(|id| Some(Self(id)))
                .map_err(ResumeRejection),
        }
    }
}

/// The request's cursor: the layer's extension, or read now.
pub(crate) fn cursor_of(parts: &Parts) -> RequestCursor {
    match parts.extensions.get::<RequestCursor>() {
        Some(cursor) => cursor.clone(),
        None => RequestCursor::from_request(&parts.headers, &parts.uri),
    }
}

/// `400 Bad Request`: a [`Resume<LastEventId>`](Resume) without a usable
/// `Last-Event-ID`, with the reason as plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRejection(pub CursorRejection);

impl fmt::Display for ResumeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for ResumeRejection {}

impl IntoResponse for ResumeRejection {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}
