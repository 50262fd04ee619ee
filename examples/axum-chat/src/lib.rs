//! The chat's routes, as a library so that tests can serve them on any port.
//! Run the server with `cargo run -p example-axum-chat`.

mod metrics;
mod stoppable;

pub use metrics::with_metrics;
pub use stoppable::StoppableListener;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use example_chat_common::{
    Answer, Chat, ChatError, MAX_MESSAGE_BYTES, PAGE, StreamSettings, idempotency_key,
};
use http_body_util::BodyExt;

/// `GET /`, `GET /events`, `GET /event-names` and `POST /messages` of
/// `chat`.
pub fn app(chat: Chat) -> Router {
    app_with(chat, StreamSettings::default())
}

/// [`app`], with the event streams set up by `settings`.
pub fn app_with(chat: Chat, settings: StreamSettings) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/events",
            sse_axum::endpoint_route(settings.endpoint(chat.hub().clone())),
        )
        .route("/event-names", get(event_names))
        .route("/messages", post(post_message))
        .with_state(chat)
}

async fn event_names(State(chat): State<Chat>, RawQuery(query): RawQuery) -> Response {
    respond(chat.event_names(query.as_deref()).await)
}

async fn post_message(State(chat): State<Chat>, headers: HeaderMap, body: Body) -> Response {
    let key = idempotency_key(
        headers
            .get_all("idempotency-key")
            .iter()
            .map(|value| value.as_bytes()),
    );
    // A bad key is answered at once, without waiting for the body.
    if key.is_err() {
        return respond(chat.post_keyed(key, Ok(&[])).await);
    }
    let body = read_body(body, &chat).await;
    let body = body.as_deref().map_err(Clone::clone);
    respond(chat.post_keyed(key, body).await)
}

/// The body, read within the chat's body read timeout and up to the
/// message limit: a slower one is refused with `408`, a larger one with
/// `413`, each with the chat's own JSON body, like the other chat servers.
async fn read_body(body: Body, chat: &Chat) -> Result<Bytes, ChatError> {
    let timeout = chat.body_read_timeout();
    let limited = http_body_util::Limited::new(body, MAX_MESSAGE_BYTES);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(ChatError::too_slow(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ChatError::too_large())
        }
        Ok(Err(error)) => Err(ChatError::unreadable(error)),
    }
}

/// The chat's answer as a response, with its `Retry-After`.
fn respond(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, answer.body);
    if let Some(seconds) = answer.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
