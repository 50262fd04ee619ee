//! The chat's routes, as a library so that tests can serve them on any port.
//! Run the server with `cargo run -p example-axum-chat`.

mod stoppable;

pub use stoppable::StoppableListener;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use example_chat_common::{Answer, Chat, ChatError, MAX_MESSAGE_BYTES, PAGE, StreamSettings};

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
        // One byte more than a message may have, so that an oversized one is
        // read and refused with our own 413 and JSON body.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_MESSAGE_BYTES + 1))
        .with_state(chat)
}

async fn event_names(State(chat): State<Chat>, RawQuery(query): RawQuery) -> Response {
    respond(chat.event_names(query.as_deref()).await)
}

async fn post_message(State(chat): State<Chat>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match &body {
        Ok(body) => Ok(&body[..]),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ChatError::too_large())
        }
        Err(rejection) => Err(ChatError::unreadable(rejection.body_text())),
    };
    respond(chat.post(body).await)
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
