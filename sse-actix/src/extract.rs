//! [`Cursor`]: the client's cursor, as an actix-web extractor.

use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, ResponseError};
use sse_engine::{CursorRejection, LAST_EVENT_ID, RequestCursor};

/// The client's cursor: absent, valid, or invalid with the reason; never
/// rejects. Read from the `Last-Event-ID` header, or the `lastEventId` query
/// parameter, with sse-engine's checks.
///
/// ```
/// use actix_web::{App, web};
/// use sse_actix::Cursor;
/// use sse_engine::RequestCursor;
///
/// async fn events(Cursor(cursor): Cursor) -> String {
///     match cursor {
///         RequestCursor::Absent => "first connection".into(),
///         RequestCursor::Valid(id) => format!("resume after {id}"),
///         RequestCursor::Invalid(error) => format!("unusable cursor: {error}"),
///     }
/// }
/// let app = App::new().route("/events", web::get().to(events));
/// # drop(app);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub RequestCursor);

impl FromRequest for Cursor {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self(cursor_of(request))))
    }
}

fn cursor_of(request: &HttpRequest) -> RequestCursor {
    let values = request
        .headers()
        .get_all(LAST_EVENT_ID.as_str())
        .map(|value| value.as_bytes());
    let query = Some(request.query_string()).filter(|query| !query.is_empty());
    RequestCursor::from_parts(values, query)
}

/// A usable `Last-Event-ID` (header, or `lastEventId` query parameter). A
/// missing or unusable one is rejected with `400 Bad Request` and the reason.
/// As `Option<LastEventId>`, actix gives `None` for both; use [`Cursor`] to
/// tell them apart.
///
/// ```
/// use actix_web::{App, web};
/// use sse_actix::LastEventId;
///
/// async fn events(LastEventId(id): LastEventId) -> String {
///     format!("resume after {id}")
/// }
/// let app = App::new().route("/events", web::get().to(events));
/// # drop(app);
/// ```
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

/// `400 Bad Request`: the `Last-Event-ID` is missing or unusable.
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
