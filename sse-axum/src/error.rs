//! [`HubError`]: a hub's refusal as an axum response.

use std::fmt;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sse_engine::hub::Refusal;

/// A publish or a subscription the hub refused, answered as sse-engine's
/// [`Refusal`] says: the status, `Retry-After` with a `503`, and the reason
/// as plain text. Handlers
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
pub struct HubError(Refusal);

impl HubError {
    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }
}

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

impl std::error::Error for HubError {}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        self.0.into_response().map(Body::from)
    }
}
