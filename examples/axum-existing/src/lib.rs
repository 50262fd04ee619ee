//! An app as many already are: a hand-written event stream (raw bytes, its
//! own body, no keep-alive, no `Cache-Control`) next to ordinary routes. One
//! line, `.layer(SseResponseLayer::new())`, gives the stream the SSE headers
//! and keep-alive comments between its events, and leaves the other routes
//! as they were. Run it with `cargo run -p example-axum-existing`.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream;
use sse_tower::response::{KeepAlive, SseResponseLayer};

/// The existing routes, with the layer added.
pub fn app(keep_alive: Duration) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { "an existing app; its event stream is at /progress" }),
        )
        .route("/progress", get(progress))
        .layer(SseResponseLayer::new().keep_alive(KeepAlive::new().interval(keep_alive)))
}

/// The hand-written stream: a few progress events written as raw bytes, then
/// a long silence (a slow job).
async fn progress() -> impl IntoResponse {
    let steps = stream::iter(["10%", "50%", "90%"])
        .then(|step| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok::<_, std::convert::Infallible>(Bytes::from(format!(
                "event: progress\ndata: {step}\n\n"
            )))
        })
        .chain(stream::pending());
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(steps),
    )
}
