//! Answers for requests no route takes: an unknown path (`404`) or a method
//! a path does not serve (`405`), in the error shape of the API the path
//! belongs to, so that an SDK pointed at the wrong URL raises a readable
//! error instead of failing to parse an empty body.

use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;

use crate::anthropic::Anthropic;
use crate::error::ApiError;
use crate::openai::OpenAi;
use crate::respond;

/// `404`, as OpenAI words it: `Invalid URL (GET /v1/models)`.
pub(crate) async fn not_found(method: Method, uri: Uri) -> Response {
    refuse(StatusCode::NOT_FOUND, &method, &uri)
}

/// `405`: the path exists, but not for this method.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    refuse(StatusCode::METHOD_NOT_ALLOWED, &method, &uri)
}

/// Anthropic's shape under `/v1/messages`, OpenAI's everywhere else (also
/// the shape of a generic API error). The path only, not the query: the
/// message echoes what the client sent, and a query may hold secrets.
fn refuse(status: StatusCode, method: &Method, uri: &Uri) -> Response {
    let path = uri.path();
    let error = ApiError::new(status, format!("Invalid URL ({method} {path})"));
    if path == "/v1/messages" || path.starts_with("/v1/messages/") {
        respond::refuse::<Anthropic>(&error)
    } else {
        respond::refuse::<OpenAi>(&error)
    }
}
