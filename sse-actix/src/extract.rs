//! [`Cursor`]: the client's cursor, as an actix-web extractor.

use std::convert::Infallible;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use sse_core::{LAST_EVENT_ID, RequestCursor};

/// The client's cursor: absent, valid, or invalid with the reason; never
/// rejects. Read from the `Last-Event-ID` header, or the `lastEventId` query
/// parameter, with sse-core's checks.
///
/// ```
/// use actix_web::{App, web};
/// use sse_actix::Cursor;
/// use sse_core::RequestCursor;
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
        let values = request
            .headers()
            .get_all(LAST_EVENT_ID.as_str())
            .map(|value| value.as_bytes());
        let query = Some(request.query_string()).filter(|query| !query.is_empty());
        ready(Ok(Self(RequestCursor::from_parts(values, query))))
    }
}
