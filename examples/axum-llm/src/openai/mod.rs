//! `POST /v1/chat/completions`, as OpenAI serves it.

mod request;
mod response;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::Response;

pub(crate) use self::response::OpenAi;
use crate::{Llm, respond};

/// `POST /v1/chat/completions`: `data:` chunks of `chat.completion.chunk`
/// then `data: [DONE]` with `"stream": true`, one `chat.completion` object
/// without.
pub(crate) async fn chat_completions(
    State(llm): State<Llm>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = respond::body(body).and_then(|body| request::parse(&body));
    respond::answer(&llm, request).await
}
