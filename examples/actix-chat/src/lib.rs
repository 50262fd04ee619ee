//! The chat's routes, as a library so that tests can serve them on any port.
//! Run the server with `cargo run -p example-actix-chat`.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, HeaderValue, RETRY_AFTER};
use actix_web::web::{self, Bytes, BytesMut, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Responder, guard};
use example_chat_common::{
    Answer, Chat, ChatError, MAX_MESSAGE_BYTES, PAGE, StreamSettings, idempotency_key,
};
use futures_util::StreamExt;

mod metrics;
pub use metrics::metrics_route;

/// `GET /`, `GET /events`, `GET /event-names` and `POST /messages` of
/// `chat`. Make the [`Chat`] once, outside `HttpServer::new`, so that the
/// workers share it.
pub fn routes(chat: Chat) -> impl FnOnce(&mut ServiceConfig) {
    routes_with(chat, StreamSettings::default())
}

/// [`routes`], with the event streams set up by `settings`.
pub fn routes_with(chat: Chat, settings: StreamSettings) -> impl FnOnce(&mut ServiceConfig) {
    move |config| {
        let events = settings.endpoint(chat.hub().clone());
        config
            .app_data(web::Data::new(chat))
            .route("/", web::get().to(page))
            .service(sse_actix::endpoint_resource("/events", events))
            // As axum's `get(..)` and `post(..)` answer: `HEAD` with `GET`,
            // 405 with `Allow` for the others.
            .service(
                web::resource("/event-names")
                    .route(
                        web::route()
                            .guard(guard::Any(guard::Get()).or(guard::Head()))
                            .to(event_names),
                    )
                    .default_service(web::to(|| async { method_not_allowed("GET,HEAD") })),
            )
            .service(
                web::resource("/messages")
                    .route(web::post().to(post_message))
                    .default_service(web::to(|| async { method_not_allowed("POST") })),
            );
    }
}

fn method_not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, allow))
        .finish()
}

async fn page() -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

async fn event_names(chat: web::Data<Chat>, request: HttpRequest) -> HttpResponse {
    let query = Some(request.query_string()).filter(|query| !query.is_empty());
    respond(chat.event_names(query).await)
}

async fn post_message(
    chat: web::Data<Chat>,
    request: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let key = idempotency_key(
        request
            .headers()
            .get_all("idempotency-key")
            .map(|value| value.as_bytes()),
    );
    // A bad key is answered at once, without waiting for the body.
    if key.is_err() {
        return respond(chat.post_keyed(key, Ok(&[])).await);
    }
    let timeout = chat.body_read_timeout();
    let body = match tokio::time::timeout(timeout, read_limited(body)).await {
        Ok(body) => body,
        Err(_) => Err(ChatError::too_slow(timeout)),
    };
    let body = body.as_deref().map_err(Clone::clone);
    respond(chat.post_keyed(key, body).await)
}

/// The chat's answer as a response, with its `Retry-After`.
fn respond(answer: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, answer.body);
    if let Some(seconds) = answer.retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
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
