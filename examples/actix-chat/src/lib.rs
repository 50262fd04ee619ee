//! The chat's routes, as a library so that tests can serve them on any port.
//! Run the server with `cargo run -p example-actix-chat`.

use actix_web::http::StatusCode;
use actix_web::http::header::ALLOW;
use actix_web::web::{self, Bytes, BytesMut, ServiceConfig};
use actix_web::{HttpResponse, Responder};
use example_chat_common::{ChatError, MAX_MESSAGE_BYTES, PAGE, StreamSettings};
use futures_util::StreamExt;
use sse_actix::HubEndpoint;
use sse_engine::hub::Hub;

/// `GET /`, `GET /events` and `POST /messages` over `hub`.
pub fn routes(hub: Hub) -> impl FnOnce(&mut ServiceConfig) {
    routes_with(hub, StreamSettings::default())
}

/// [`routes`], with the event streams set up by `settings`.
pub fn routes_with(hub: Hub, settings: StreamSettings) -> impl FnOnce(&mut ServiceConfig) {
    move |config| {
        let events = HubEndpoint::from(settings.endpoint(hub.clone()));
        config
            .app_data(web::Data::new(hub))
            .route("/", web::get().to(page))
            .service(events.resource("/events"))
            // As axum's `post(..)` answers: 405 with `Allow` for the others.
            .service(
                web::resource("/messages")
                    .route(web::post().to(post_message))
                    .default_service(web::to(|| async {
                        HttpResponse::MethodNotAllowed()
                            .insert_header((ALLOW, "POST"))
                            .finish()
                    })),
            );
    }
}

async fn page() -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

async fn post_message(hub: web::Data<Hub>, body: web::Payload) -> HttpResponse {
    let body = read_limited(body).await;
    let body = body.as_deref().map_err(Clone::clone);
    let (status, answer) = example_chat_common::post_message(&hub, body).await;
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        answer,
    )
}

/// The body, read until one byte past the limit at most: an oversized body
/// is refused with the chat's own JSON 413, like the other chat servers.
async fn read_limited(mut payload: web::Payload) -> Result<Bytes, ChatError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(ChatError::unreadable)?;
        if body.len() + chunk.len() > MAX_MESSAGE_BYTES {
            return Err(ChatError::too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn json(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}
