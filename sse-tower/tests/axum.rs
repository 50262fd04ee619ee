//! In an axum app: EndpointService mounted with `route_service`, and the response
//! layer added to an existing hand-written SSE route, served by `axum::serve`
//! on 127.0.0.1.

mod support;

use std::time::Duration;

use axum::Router;
use axum::response::sse::{Event as AxumEvent, Sse};
use axum::routing::get;
use futures_util::stream::{self, StreamExt};
use sse_engine::Event;
use sse_engine::hub::Hub;
use sse_tower::EndpointService;
use sse_tower::response::SseResponseLayer;
use support::{http1, next_data};
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn an_existing_axum_app_gains_a_hub_endpoint_and_sse_headers() {
    let hub = Hub::new();
    // An existing route that writes its own events with axum's Sse, without
    // keep-alive and without Cache-Control: the layer adds both.
    async fn ticks()
    -> Sse<impl futures_util::Stream<Item = Result<AxumEvent, std::convert::Infallible>>> {
        let events = stream::iter([Ok(AxumEvent::default().data("tick"))]).chain(stream::pending());
        Sse::new(events)
    }
    let app = Router::new()
        .route("/ticks", get(ticks))
        .route_service("/events", EndpointService::new(hub.clone(), ["chat"]))
        .layer(
            SseResponseLayer::new().keep_alive(
                sse_engine::KeepAlive::new()
                    .interval(Duration::from_millis(100))
                    .text("ka"),
            ),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let response = http1()
        .get(format!("http://{addr}/ticks").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let mut body = response.into_body();
    assert_eq!(next_data(&mut body, WAIT).await.unwrap(), "data: tick\n\n");
    assert_eq!(next_data(&mut body, WAIT).await.unwrap(), ": ka\n");
    drop(body);

    let response = http1()
        .get(format!("http://{addr}/events").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    // The subscription exists once the first keep-alive comment arrives.
    assert_eq!(next_data(&mut body, WAIT).await.unwrap(), ": ka\n");
    hub.publish("chat", Event::new().data("hello"))
        .await
        .unwrap();
    let event = next_data(&mut body, WAIT).await.unwrap();
    assert!(event.ends_with(b"data: hello\n\n"), "{event:?}");
    server.abort();
}
