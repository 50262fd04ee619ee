//! EndpointService behind a real hyper server on 127.0.0.1: resume over HTTP/1.1 and
//! HTTP/2, gaps for unusable cursors, errors, and release on disconnect.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use sse_engine::Event;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{Endpoint, Hub};
use sse_tower::EndpointService;
use sse_tower::last_event_id::ParseLastEventIdLayer;
use support::{http1, http2, next_data, serve};
use tower::ServiceBuilder;

const WAIT: Duration = Duration::from_secs(5);

/// Reads frames until `count` events have been decoded.
async fn read_events(body: &mut hyper::body::Incoming, count: usize) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = next_data(body, WAIT).await.expect("more events");
        decoder.push(&chunk).unwrap();
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    events
}

/// The answer to a `HEAD` of `url`.
async fn head(url: &str) -> http::Response<hyper::body::Incoming> {
    http1()
        .request(Request::head(url).body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap()
}

fn request(url: String, last_event_id: Option<&[u8]>) -> Request<Empty<Bytes>> {
    let mut request = Request::get(url);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    request.body(Empty::new()).unwrap()
}

#[tokio::test]
async fn resumes_from_last_event_id_then_streams_live_over_http1_and_http2() {
    for client in [http1(), http2()] {
        let hub = Hub::new();
        let server = serve(EndpointService::new(hub.clone(), ["chat"]), WAIT).await;
        let first = hub.publish("chat", Event::new().data("1")).await.unwrap();
        hub.publish("chat", Event::new().data("2")).await.unwrap();
        hub.publish("chat", Event::new().data("3")).await.unwrap();
        let cursor = first.to_string();
        let response = client
            .request(request(server.url("/events"), Some(cursor.as_bytes())))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body();
        let replayed = read_events(&mut body, 2).await;
        assert_eq!(
            replayed.iter().map(DecodedEvent::data).collect::<Vec<_>>(),
            ["2", "3"]
        );
        let live = hub
            .publish("chat", Event::new().data("live"))
            .await
            .unwrap();
        let events = read_events(&mut body, 1).await;
        assert_eq!(events[0].data(), "live");
        assert_eq!(events[0].last_event_id(), live.to_string());
        drop(body);
        assert!(server.stop().await);
    }
}

#[tokio::test]
async fn an_unusable_cursor_through_the_parse_layer_gets_a_gap_event() {
    let hub = Hub::new();
    hub.publish("chat", Event::new().data("old")).await.unwrap();
    let service = ServiceBuilder::new()
        .layer(ParseLastEventIdLayer::new())
        .service(EndpointService::new(hub.clone(), ["chat"]));
    let server = serve(service, WAIT).await;
    let huge = vec![b'7'; 4096];
    let response = http1()
        .request(request(server.url("/events"), Some(&huge)))
        .await
        .unwrap();
    let mut body = response.into_body();
    let events = read_events(&mut body, 1).await;
    assert_eq!(events[0].event_type(), "gap");
    assert!(events[0].data().contains(r#""reason":"unknown""#));
    drop(body);
    assert!(server.stop().await);
}

#[tokio::test]
async fn only_get_subscribes_head_has_the_head_and_other_methods_get_405() {
    let hub = Hub::new();
    let server = serve(EndpointService::new(hub.clone(), ["chat"]), WAIT).await;
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let response = http1()
            .request(
                Request::builder()
                    .method(method)
                    .uri(server.url("/events"))
                    .body(Empty::<Bytes>::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET,HEAD", "{method}");
    }
    let response = head(&server.url("/events")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert!(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
    assert_eq!(hub.stats().subscribers, 0, "no method but GET subscribes");
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_closed_hub_answers_503_and_an_unknown_topic_404() {
    let closed = Hub::new();
    closed.close(None);
    let server = serve(EndpointService::new(closed, ["chat"]), WAIT).await;
    let response = http1()
        .request(request(server.url("/events"), None))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    // HEAD answers as GET would, without the body.
    let response = head(&server.url("/events")).await;
    assert_eq!(response.status(), 503);
    assert!(server.stop().await);

    let strict = Hub::builder().create_topics(false).build();
    let server = serve(EndpointService::new(strict, ["missing"]), WAIT).await;
    let response = http1()
        .request(request(server.url("/events"), None))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let message = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(message, "cannot subscribe: no topic named \"missing\"");
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_client_that_disconnects_releases_its_subscription() {
    let hub = Hub::new();
    let server = serve(
        EndpointService::from(Endpoint::new(hub.clone(), ["chat"]).retry(Duration::from_secs(1))),
        WAIT,
    )
    .await;
    let mut bodies = Vec::new();
    for _ in 0..20 {
        let response = http1()
            .request(request(server.url("/events"), None))
            .await
            .unwrap();
        let mut body = response.into_body();
        // The first frame is the retry line: the subscription exists.
        let retry = next_data(&mut body, WAIT).await.unwrap();
        assert!(retry.starts_with(b"retry: "));
        bodies.push(body);
    }
    assert_eq!(hub.stats().subscribers, 20);
    drop(bodies);
    let deadline = tokio::time::Instant::now() + WAIT;
    while hub.stats().subscribers > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscriptions still open"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(server.stop().await);
}

/// The names of the first release still compile, as aliases.
#[tokio::test]
#[allow(deprecated)]
async fn the_first_release_names_still_serve() {
    use tower::ServiceExt;

    let hub = Hub::new();
    let service: sse_tower::HubService = sse_tower::HubService::new(hub.clone(), ["chat"]);
    let server = serve(service, WAIT).await;
    hub.publish("chat", Event::new().data("1")).await.unwrap();
    let response = http1()
        .request(request(server.url("/events"), Some(b"x")))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: http::Response<sse_tower::HubBody> =
        sse_tower::HubService::from(Endpoint::new(hub, ["chat"]))
            .oneshot(Request::head("/events").body(()).unwrap())
            .await
            .unwrap();
    assert_eq!(body.status(), 200);
    drop(response);
    assert!(server.stop().await);
}

/// Past the hub's limit on subscribers, a request gets `503` with a
/// `Retry-After` of 2 to 6 seconds and no subscription; once one leaves,
/// the next is admitted.
#[tokio::test]
async fn a_full_hub_answers_503_with_a_spread_retry_after() {
    let hub = Hub::builder().max_subscribers(2).build();
    let server = serve(EndpointService::new(hub.clone(), ["chat"]), WAIT).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let response = http1()
            .request(request(server.url("/events"), None))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        open.push(response);
    }
    let refused = http1()
        .request(request(server.url("/events"), None))
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let seconds: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2..=6).contains(&seconds), "Retry-After: {seconds}");
    assert_eq!(hub.stats().subscribers, 2);
    assert_eq!(hub.stats().refused, 1);
    drop(open);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let response = http1()
            .request(request(server.url("/events"), None))
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never admitted again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.stop().await);
}
