//! Extractors for the client's cursor.

use std::convert::Infallible;
use std::fmt;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use sse_engine::{CursorRejection, RequestCursor};

/// The client's cursor, whatever it is: absent, valid, or invalid with the
/// reason. Never rejects. Taken from the `sse-tower`
/// [`ParseLastEventIdLayer`](sse_tower::last_event_id::ParseLastEventIdLayer)'s
/// extension when that layer ran, so every reader of a request agrees;
/// otherwise read from the `Last-Event-ID` header or the `lastEventId`
/// query parameter.
///
/// ```
/// use axum::{Router, routing::get};
/// use sse_axum::Cursor;
/// use sse_engine::RequestCursor;
///
/// async fn events(Cursor(cursor): Cursor) -> String {
///     match cursor {
///         RequestCursor::Absent => "first connection".into(),
///         RequestCursor::Valid(id) => format!("resume after {id}"),
///         RequestCursor::Invalid(error) => format!("unusable cursor: {error}"),
///     }
/// }
/// let app: Router = Router::new().route("/events", get(events));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub RequestCursor);

impl<S: Send + Sync> FromRequestParts<S> for Cursor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self(cursor_of(parts)))
    }
}

fn cursor_of(parts: &Parts) -> RequestCursor {
    match parts.extensions.get::<RequestCursor>() {
        Some(cursor) => cursor.clone(),
        None => RequestCursor::from_request(&parts.headers, &parts.uri),
    }
}

/// A usable `Last-Event-ID`. As `Option<LastEventId>`, `None` when the client
/// sent none; an unusable one is rejected with `400 Bad Request` and the
/// reason, in both forms.
///
/// ```
/// use axum::{Router, routing::get};
/// use sse_axum::LastEventId;
///
/// async fn events(cursor: Option<LastEventId>) -> String {
///     match cursor {
///         Some(LastEventId(id)) => format!("resume after {id}"),
///         None => "first connection".into(),
///     }
/// }
/// let app: Router = Router::new().route("/events", get(events));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEventId(pub sse_engine::LastEventId);

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = LastEventIdRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        cursor_of(parts)
            .require()
            .map(Self)
            .map_err(LastEventIdRejection)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for LastEventId {
    type Rejection = LastEventIdRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match cursor_of(parts) {
            RequestCursor::Absent => Ok(None),
            cursor => cursor
                .require()
                .map(|id| Some(Self(id)))
                .map_err(LastEventIdRejection),
        }
    }
}

/// `400 Bad Request`: the `Last-Event-ID` is missing or unusable.
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
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}
