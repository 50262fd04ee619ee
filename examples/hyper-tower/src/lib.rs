//! A plain hyper server, no framework: `GET /events` is the `ticks` topic of
//! a hub, served by sse-tower's `EndpointService` behind its layers;
//! anything else is `404`. Run it with `cargo run -p example-hyper-tower`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use sse_engine::Event;
use sse_engine::hub::{Endpoint, Hub};
use sse_tower::EndpointService;
use sse_tower::last_event_id::ParseLastEventIdLayer;
use sse_tower::response::SseResponseLayer;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt};

/// The topic the ticker publishes to.
pub const TOPIC: &str = "ticks";

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Routes a request: `/events` to the hub, anything else to `404`.
async fn route(
    hub: Hub,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != "/events" {
        let mut response =
            Response::new(Full::new(Bytes::from_static(b"not found")).boxed_unsync());
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    }
    let events = EndpointService::from(Endpoint::new(hub, [TOPIC]).retry(Duration::from_secs(2)));
    let response = events.oneshot(request).await?;
    Ok(response.map(BodyExt::boxed_unsync))
}

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` forever, HTTP/1.1 and HTTP/2; a
/// connection whose request headers take longer than
/// [`HEADER_READ_TIMEOUT`] is closed.
pub async fn serve(listener: TcpListener, hub: Hub) {
    let service = ServiceBuilder::new()
        .layer(SseResponseLayer::new())
        .layer(ParseLastEventIdLayer::new())
        .service_fn(move |request| route(hub.clone(), request));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
        // hold one back until the client's delayed ACK (sse-load measured about
        // one event in a hundred arriving 18 ms late).
        let _ = stream.set_nodelay(true);
        // A client that stops reading is released after the stall timeout
        // (`sse_engine::stall`; fails only where the system has no such
        // option, and the connection is served as before).
        let _ = sse_engine::set_stall_timeout(&stream, sse_engine::STALL_TIMEOUT);
        let service = TowerToHyperService::new(service.clone());
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // hyper bounds reading a request's headers only with a timer: without
        // one, a client that sends them a byte at a time holds its
        // connection for good.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        tokio::spawn(async move {
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Publishes the time every `every`, forever.
pub async fn tick(hub: Hub, every: Duration) {
    let started = tokio::time::Instant::now();
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let elapsed = started.elapsed().as_secs();
        if hub
            .publish(
                TOPIC,
                Event::new().event("tick").data(format!("{elapsed} s")),
            )
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Where the example listens: 127.0.0.1 and `PORT`, or 3003.
///
/// # Errors
///
/// When `PORT` is set but is not a port number.
pub fn address() -> Result<SocketAddr, String> {
    let port = match std::env::var("PORT") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("PORT must be a port number, not {value:?}"))?,
        Err(_) => 3003,
    };
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}
