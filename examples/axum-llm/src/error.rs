//! [`ApiError`]: a refused request or a failed answer, written in the shape
//! of the API the client called, so that its SDK raises the right exception.

use std::fmt;

use axum::http::StatusCode;
use serde_json::{Value, json};

/// An error as both APIs report it: a status, a message, and OpenAI's
/// optional `type`, `param` and `code`.
///
/// - OpenAI: `{"error": {"message", "type", "param", "code"}}`.
/// - Anthropic: `{"type": "error", "error": {"type", "message"}}`, the type
///   named after the status (`invalid_request_error`, `not_found_error`, ...).
///
/// Before an answer starts it is the response (with its status); once an
/// answer is streaming it is the stream's last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    kind: Option<String>,
    param: Option<String>,
    code: Option<String>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind: None,
            param: None,
            code: None,
        }
    }

    /// `400`: the request is not what the API takes.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// `404`: no model of that name here.
    pub fn unknown_model(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
        .param("model")
        .code("model_not_found")
    }

    /// `502`: the upstream failed, before or during the answer.
    pub fn upstream(message: impl fmt::Display) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, format!("upstream: {message}")).kind("upstream_error")
    }

    /// Sets OpenAI's `type` (otherwise named after the status).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Sets OpenAI's `param`: the request field at fault.
    #[must_use]
    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets OpenAI's `code`.
    #[must_use]
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The object OpenAI puts under `"error"` (alone, that is also what its
    /// stream sends when an answer fails midway).
    pub fn openai(&self) -> Value {
        let kind = self
            .kind
            .as_deref()
            .unwrap_or(if self.status.is_server_error() {
                "server_error"
            } else {
                "invalid_request_error"
            });
        json!({
            "error": {
                "message": self.message,
                "type": kind,
                "param": self.param,
                "code": self.code,
            }
        })
    }

    /// Anthropic's error body, also the data of its stream's `error` event.
    pub fn anthropic(&self) -> Value {
        json!({
            "type": "error",
            "error": { "type": self.anthropic_type(), "message": self.message },
        })
    }

    /// Anthropic names its error types after the status.
    fn anthropic_type(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "invalid_request_error",
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            504 => "timeout_error",
            529 => "overloaded_error",
            _ => "api_error",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes() {
        let error = ApiError::unknown_model("gpt-9");
        assert_eq!(
            error.openai(),
            json!({"error": {
                "message": "The model `gpt-9` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found",
            }})
        );
        assert_eq!(error.anthropic()["type"], "error");
        assert_eq!(error.anthropic()["error"]["type"], "not_found_error");
        let upstream = ApiError::upstream("connection reset");
        assert_eq!(upstream.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(upstream.openai()["error"]["type"], "upstream_error");
        assert_eq!(upstream.anthropic()["error"]["type"], "api_error");
        let overloaded = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy");
        assert_eq!(overloaded.openai()["error"]["type"], "server_error");
    }
}
