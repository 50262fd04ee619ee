//! [`HubError`]: a hub's refusal as an axum response.

use std::fmt;
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use sse_engine::hub::{PublishError, SubscribeError};

/// A publish or a subscription the hub refused, answered as sse-engine's policy
/// says ([`PublishError::status`], [`SubscribeError::status`]): the status,
/// `Retry-After` with a `503`, and the reason as plain text. Handlers
/// return it with `?`.
///
/// ```
/// use axum::extract::State;
/// use sse_axum::{Event, HubError};
/// use sse_axum::hub::Hub;
///
/// /// `POST /messages`: publishes the body; answers with the event's id.
/// async fn publish(State(hub): State<Hub>, body: String) -> Result<String, HubError> {
///     let id = hub.publish("chat", Event::new().data(body)).await?;
///     Ok(id.to_string())
/// }
/// # let _: axum::Router = axum::Router::new()
/// #     .route("/messages", axum::routing::post(publish))
/// #     .with_state(Hub::new());
/// ```
#[derive(Debug)]
pub struct HubError {
    status: StatusCode,
    retry_after: Option<Duration>,
    message: String,
}

impl HubError {
    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<PublishError> for HubError {
    fn from(error: PublishError) -> Self {
        Self {
            status: error.status(),
            retry_after: error.retry_after(),
            message: error.client_message(),
        }
    }
}

impl From<SubscribeError> for HubError {
    fn from(error: SubscribeError) -> Self {
        Self {
            status: error.status(),
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

impl std::error::Error for HubError {}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.message,
        )
            .into_response();
        if let Some(after) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, after.as_secs().into());
        }
        response
    }
}
