//! `POST /v1/messages`, as Anthropic serves it.

mod request;
mod response;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::Response;

pub(crate) use self::response::Anthropic;
use crate::{Llm, respond};

/// `POST /v1/messages`: the named events `message_start`,
/// `content_block_start`, `ping`, `content_block_delta`...,
/// `content_block_stop`, `message_delta`, `message_stop` with
/// `"stream": true`, one `message` object without.
pub(crate) async fn messages(
    State(llm): State<Llm>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = respond::body(body).and_then(|body| request::parse(&body));
    respond::answer(&llm, request).await
}
