//! [`HubError`]: a hub's refusal as an actix-web error response.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use sse_engine::hub::Refusal;

/// A publish or a subscription the hub refused, answered as sse-engine's
/// [`Refusal`] says: the status, `Retry-After` with a `503`, and the reason
/// as plain text. Handlers
/// return it with `?`.
///
/// ```
/// use actix_web::{App, web};
/// use sse_actix::{Event, HubError};
/// use sse_actix::hub::Hub;
///
/// /// `POST /messages`: publishes the body; answers with the event's id.
/// async fn publish(hub: web::Data<Hub>, body: String) -> Result<String, HubError> {
///     let id = hub.publish("chat", Event::new().data(body)).await?;
///     Ok(id.to_string())
/// }
/// # let _ = App::new().app_data(web::Data::new(Hub::new())).route("/messages", web::post().to(publish));
/// ```
#[derive(Debug)]
pub struct HubError(Refusal);

impl<E: Into<Refusal>> From<E> for HubError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl ResponseError for HubError {
    fn status_code(&self) -> StatusCode {
        // sse-engine's status is `http` 1's; actix-web has its own type.
        StatusCode::from_u16(self.0.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"));
        if let Some(after) = self.0.retry_after() {
            response.insert_header((RETRY_AFTER, after.as_secs()));
        }
        response.body(self.0.message().to_owned())
    }
}
