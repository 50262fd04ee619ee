//! [`Refusal`]: a refused publish or subscription as an HTTP answer, the same
//! in every adapter.

use std::time::Duration;

use bytes::Bytes;

use super::{PublishError, SubscribeError};

/// What an HTTP endpoint answers when the hub refuses a publish or a
/// subscription: the status of [`PublishError::status`] or
/// [`SubscribeError::status`], `Retry-After` with a `503`, and the reason as
/// plain text (a store's own error text stays out of it). The adapters'
/// error types (`sse_axum::HubError`, `sse_actix::HubError`) and sse-tower's
/// `EndpointService` answer with it.
///
/// ```
/// use sse_engine::hub::{PublishError, Refusal};
///
/// let response = Refusal::from(PublishError::Closed).into_response();
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers()["retry-after"], "5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: http::StatusCode,
    retry_after: Option<Duration>,
    message: String,
}

impl Refusal {
    /// `204 No Content`, the WHATWG way to tell an `EventSource` to stop
    /// reconnecting for good: for a handler that refuses a request it will
    /// never accept (a cursor the application will not serve, a stream
    /// that is over). A topic ended with
    /// [`Hub::end_topic`](super::Hub::end_topic) is refused this way by
    /// itself.
    ///
    /// ```
    /// use sse_engine::hub::Refusal;
    ///
    /// let response = Refusal::stop().into_response();
    /// assert_eq!(response.status(), 204);
    /// assert!(response.body().is_empty());
    /// ```
    pub fn stop() -> Self {
        Self {
            status: http::StatusCode::NO_CONTENT,
            retry_after: None,
            message: String::new(),
        }
    }

    /// The status to answer with.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// The `Retry-After` to answer with, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The reason, for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The answer: the status, `Content-Type: text/plain; charset=utf-8`,
    /// `Retry-After` when there is one, and the reason as the body; a
    /// `204 No Content` has neither body nor headers.
    pub fn into_response(self) -> http::Response<Bytes> {
        if self.status == http::StatusCode::NO_CONTENT {
            let mut response = http::Response::new(Bytes::new());
            *response.status_mut() = self.status;
            return response;
        }
        let mut response = http::Response::new(Bytes::from(self.message));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let Some(after) = self.retry_after {
            headers.insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(after.as_secs()),
            );
        }
        response
    }
}

impl From<PublishError> for Refusal {
    fn from(error: PublishError) -> Self {
        Self {
            status: error.status(),
            retry_after: error.retry_after(),
            message: error.client_message(),
        }
    }
}

impl From<SubscribeError> for Refusal {
    fn from(error: SubscribeError) -> Self {
        Self {
            status: error.status(),
            retry_after: error.retry_after(),
            message: error.to_string(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
