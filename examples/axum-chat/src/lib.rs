//! The chat's routes, as a library so that tests can serve them on any port.
//! Run the server with `cargo run -p example-axum-chat`.

mod backend;
mod stoppable;

pub use backend::hub_from_env;
pub use stoppable::StoppableListener;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use example_chat_common::{ChatError, MAX_MESSAGE_BYTES, PAGE, StreamSettings};
use sse_engine::hub::Hub;

/// `GET /`, `GET /events` and `POST /messages` over `hub`.
pub fn app(hub: Hub) -> Router {
    app_with(hub, StreamSettings::default())
}

/// [`app`], with the event streams set up by `settings`.
pub fn app_with(hub: Hub, settings: StreamSettings) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/events",
            sse_axum::endpoint_route(settings.endpoint(hub.clone())),
        )
        .route("/messages", post(post_message))
        // One byte more than a message may have, so that an oversized one is
        // read and refused with our own 413 and JSON body.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_MESSAGE_BYTES + 1))
        .with_state(hub)
}

async fn post_message(State(hub): State<Hub>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match &body {
        Ok(body) => Ok(&body[..]),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ChatError::too_large())
        }
        Err(rejection) => Err(ChatError::unreadable(rejection.body_text())),
    };
    let (status, answer) = example_chat_common::post_message(&hub, body).await;
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        answer,
    )
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
