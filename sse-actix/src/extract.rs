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
//! | `Option<Resume<LastEventId>>` | `None` | `None` (actix-web's `Option` drops the error) |
//!
//! The types it holds are re-exported here, so that this crate is the only
//! one a handler needs.

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, ResponseError};

pub use sse_engine::{CursorRejection, LastEventId, LastEventIdError, RequestCursor};

/// The client's cursor, as a [`RequestCursor`] (never rejects) or as a
/// usable [`LastEventId`] (`400 Bad Request` without one); see the [module
/// docs](self). Read from the `Last-Event-ID` header, or the `lastEventId`
/// query parameter, with sse-engine's checks.
///
/// ```
/// use actix_web::{App, web};
/// use sse_actix::extract::{LastEventId, RequestCursor, Resume};
///
/// async fn events(Resume(cursor): Resume<RequestCursor>) -> String {
///     match cursor {
///         RequestCursor::Absent => "first connection".into(),
///         RequestCursor::Valid(id) => format!("resume after {id}"),
///         RequestCursor::Invalid(error) => format!("unusable cursor: {error}"),
///     }
/// }
///
/// async fn strict(Resume(id): Resume<LastEventId>) -> String {
///     format!("resume after {id}")
/// }
/// let app = App::new()
///     .route("/events", web::get().to(events))
///     .route("/strict", web::get().to(strict));
/// # drop(app);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume<T = RequestCursor>(pub T);

impl FromRequest for Resume<RequestCursor> {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self(cursor_of(request))))
    }
}

impl FromRequest for Resume<LastEventId> {
    type Error = ResumeRejection;
    type Future = Ready<Result<Self, ResumeRejection>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            cursor_of(request)
                .require()
                .map(Self)
                .map_err(ResumeRejection),
        )
    }
}

/// The request's cursor, read with sse-engine's rules.
pub(crate) fn cursor_of(request: &HttpRequest) -> RequestCursor {
    let values = request
        .headers()
        .get_all(sse_engine::LAST_EVENT_ID.as_str())
        .map(|value| value.as_bytes());
    let query = Some(request.query_string()).filter(|query| !query.is_empty());
    RequestCursor::from_parts(values, query)
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

impl ResponseError for ResumeRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}
