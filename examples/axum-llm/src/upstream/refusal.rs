//! An upstream's error, read into an [`ApiError`]: from a refused request
//! (its status and JSON body) or from the middle of its stream.

use axum::http::StatusCode;
use http_body_util::{BodyExt, Limited};
use hyper::Response;
use hyper::body::Incoming;
use serde_json::Value;

use crate::error::ApiError;

/// An error body longer than this is cut: it is only read for its message.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// A message taken from a body that is not an error object is cut to this.
const MAX_MESSAGE_CHARS: usize = 500;

/// The error of a response with a status other than 2xx. The upstream's
/// `4xx` statuses are the client's too (an unknown model is still `404`);
/// its `5xx` become `502 Bad Gateway`.
pub(super) async fn read(response: Response<Incoming>) -> ApiError {
    let status = response.status();
    let status = if status.is_client_error() {
        status
    } else {
        StatusCode::BAD_GATEWAY
    };
    let body = Limited::new(response.into_body(), MAX_ERROR_BYTES).collect();
    match tokio::time::timeout(std::time::Duration::from_secs(10), body).await {
        Ok(Ok(body)) => from_body(status, &body.to_bytes()),
        Ok(Err(error)) => ApiError::new(status, format!("upstream: {error}")),
        Err(_) => ApiError::new(status, "upstream: its error body did not arrive"),
    }
}

/// An error from a body: OpenAI's `{"error": {...}}`, a bare
/// `{"error": "..."}`, or any text.
pub(super) fn from_body(status: StatusCode, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => from_value(status, &value),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(MAX_MESSAGE_CHARS).collect();
            ApiError::new(status, format!("upstream: {text}"))
        }
    }
}

/// An error from a JSON value holding one, keeping OpenAI's `type`,
/// `param` and `code` where the upstream gave them.
pub(super) fn from_value(status: StatusCode, value: &Value) -> ApiError {
    let error = value.get("error").unwrap_or(value);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .map_or_else(
            || format!("upstream: {error}"),
            |message| format!("upstream: {message}"),
        );
    let mut api_error = ApiError::new(status, message);
    let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
    if let Some(kind) = field("type") {
        api_error = api_error.kind(kind);
    }
    if let Some(param) = field("param") {
        api_error = api_error.param(param);
    }
    if let Some(code) = field("code") {
        api_error = api_error.code(code);
    }
    api_error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_errors_keep_their_fields() {
        let body = br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let error = from_body(StatusCode::UNAUTHORIZED, body);
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error.message(), "upstream: Incorrect API key provided");
        assert_eq!(error.openai()["error"]["code"], "invalid_api_key");
        assert_eq!(error.anthropic()["error"]["type"], "authentication_error");
    }

    #[test]
    fn other_bodies_give_a_message() {
        let bare = from_body(StatusCode::BAD_REQUEST, br#"{"error": "no such thing"}"#);
        assert_eq!(bare.message(), "upstream: no such thing");
        let text = from_body(
            StatusCode::BAD_GATEWAY,
            "  <html>bad gateway</html>\n".as_bytes(),
        );
        assert_eq!(text.message(), "upstream: <html>bad gateway</html>");
        let long = from_body(StatusCode::BAD_GATEWAY, "é".repeat(1000).as_bytes());
        assert_eq!(
            long.message().chars().count(),
            "upstream: ".len() + MAX_MESSAGE_CHARS
        );
    }
}
