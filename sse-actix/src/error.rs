//! [`HubError`]: a hub's refusal as an actix-web error response.

use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use sse_engine::hub::{PublishError, SubscribeError};

/// A publish or a subscription the hub refused, answered as sse-engine's policy
/// says ([`PublishError::status`], [`SubscribeError::status`]): the status,
/// `Retry-After` with a `503`, and the reason as plain text. Handlers
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
pub struct HubError {
    status: StatusCode,
    retry_after: Option<Duration>,
    message: String,
}

/// sse-engine's status (`http` 1), in actix-web's `http` version.
fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<PublishError> for HubError {
    fn from(error: PublishError) -> Self {
        Self {
            status: status(error.status().as_u16()),
            retry_after: error.retry_after(),
            message: error.client_message(),
        }
    }
}

impl From<SubscribeError> for HubError {
    fn from(error: SubscribeError) -> Self {
        Self {
            status: status(error.status().as_u16()),
            retry_after: error.retry_after(),
            message: error.to_string(),
        }
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for HubError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"));
        if let Some(after) = self.retry_after {
            response.insert_header((RETRY_AFTER, after.as_secs()));
        }
        response.body(self.message.clone())
    }
}
