//! The SSE response layer in front of real hyper servers on 127.0.0.1, read by
//! a real HTTP client over HTTP/1.1 and HTTP/2.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use sse_engine::KeepAlive;
use sse_tower::response::SseResponseLayer;
use support::{ChannelBody, http1, http2, next_data, serve};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower::service_fn;

const GRACE: Duration = Duration::from_secs(5);

/// A service whose one event-stream response is fed by the returned sender.
// The opaque service type has to spell out its future for `serve`.
#[allow(clippy::type_complexity)]
fn raw_stream_service() -> (
    mpsc::UnboundedSender<Bytes>,
    impl tower::Service<
        Request<Incoming>,
        Response = Response<ChannelBody>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<ChannelBody>, Infallible>> + Send,
    > + Clone
    + Send
    + 'static,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let rx = Arc::new(Mutex::new(Some(rx)));
    let service = service_fn(move |_request: Request<Incoming>| {
        let rx = rx.lock().unwrap().take().expect("one request per test");
        async move {
            let mut response = Response::new(ChannelBody(rx));
            let headers = response.headers_mut();
            headers.insert(
                "content-type",
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert("content-length", HeaderValue::from_static("1000"));
            Ok::<_, Infallible>(response)
        }
    });
    (tx, service)
}

fn keep_alive(millis: u64) -> SseResponseLayer {
    SseResponseLayer::new().keep_alive(
        KeepAlive::new()
            .interval(Duration::from_millis(millis))
            .text("ka"),
    )
}

#[tokio::test]
async fn other_responses_pass_through_untouched() {
    let service = ServiceBuilder::new()
        .layer(SseResponseLayer::new())
        .service(service_fn(|_request: Request<Incoming>| async {
            let response = Response::builder()
                .header("content-type", "application/json")
                .header("cache-control", "max-age=60")
                .body(Full::new(Bytes::from_static(b"{\"ok\":true}")))
                .unwrap();
            Ok::<_, Infallible>(response)
        }));
    let server = serve(service, GRACE).await;
    for client in [http1(), http2()] {
        let response = client.get(server.url("/").parse().unwrap()).await.unwrap();
        assert_eq!(response.headers()["content-length"], "11");
        assert_eq!(response.headers()["cache-control"], "max-age=60");
        assert!(response.headers().get("x-accel-buffering").is_none());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "{\"ok\":true}");
    }
    assert!(server.stop().await);
}

#[tokio::test]
async fn event_streams_get_their_headers_over_http1_and_http2() {
    for client in [http1(), http2()] {
        let (tx, service) = raw_stream_service();
        let server = serve(
            ServiceBuilder::new()
                .layer(SseResponseLayer::new())
                .service(service),
            GRACE,
        )
        .await;
        tx.send(Bytes::from_static(b"data: hello\n\n")).unwrap();
        let response = client
            .get(server.url("/events").parse().unwrap())
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["x-accel-buffering"], "no");
        assert!(
            headers.get("content-length").is_none(),
            "a stream has no length"
        );
        let mut body = response.into_body();
        assert_eq!(
            next_data(&mut body, GRACE).await.unwrap(),
            "data: hello\n\n"
        );
        drop(tx);
        assert!(server.stop().await);
    }
}

/// A raw handler stream behind the layer with a keep-alive of `millis`,
/// served on loopback and opened over HTTP/1.1: the sender of the handler's
/// bytes, the server, and the body the client reads.
async fn raw_stream_with_keep_alive(
    millis: u64,
) -> (mpsc::UnboundedSender<Bytes>, support::Server, Incoming) {
    let (tx, service) = raw_stream_service();
    let server = serve(
        ServiceBuilder::new()
            .layer(keep_alive(millis))
            .service(service),
        GRACE,
    )
    .await;
    let response = http1()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    (tx, server, response.into_body())
}

#[tokio::test]
async fn keep_alive_is_written_between_events_never_inside_one() {
    let (tx, server, mut body) = raw_stream_with_keep_alive(100).await;

    // Idle at the start of the stream: a comment after the interval.
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), ": ka\n");

    // The handler stalls in the middle of an event, its line ended by a
    // CR: five intervals go by and nothing may be written.
    tx.send(Bytes::from_static(b"data: first half\r")).unwrap();
    assert_eq!(
        next_data(&mut body, GRACE).await.unwrap(),
        "data: first half\r"
    );
    assert_eq!(next_data(&mut body, Duration::from_millis(500)).await, None);

    // The event ends (the LF completes the CRLF, then a blank line): the next
    // idle interval brings a comment again.
    tx.send(Bytes::from_static(b"\ndata: second half\r\n\r\n"))
        .unwrap();
    assert_eq!(
        next_data(&mut body, GRACE).await.unwrap(),
        "\ndata: second half\r\n\r\n"
    );
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), ": ka\n");
    drop(tx);
    assert!(server.stop().await);
}

#[tokio::test]
async fn keep_alive_follows_an_opening_block_that_ends_in_no_blank_line() {
    // sse-engine's opening `retry:` and comment have no blank line after them
    // (a blank line would be an empty event to lax clients); they belong to
    // no event, so the layer's keep-alive may follow them.
    let (tx, server, mut body) = raw_stream_with_keep_alive(100).await;
    tx.send(Bytes::from_static(b": hello\nretry: 2000\n"))
        .unwrap();
    assert_eq!(
        next_data(&mut body, GRACE).await.unwrap(),
        ": hello\nretry: 2000\n"
    );
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), ": ka\n");
    // An `id` line opens an event: no comment until its blank line.
    tx.send(Bytes::from_static(b"id: 1\n")).unwrap();
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), "id: 1\n");
    assert_eq!(next_data(&mut body, Duration::from_millis(500)).await, None);
    tx.send(Bytes::from_static(b"data: x\n\n")).unwrap();
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), "data: x\n\n");
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), ": ka\n");
    drop(tx);
    assert!(server.stop().await);
}

#[tokio::test]
async fn max_lifetime_ends_the_stream_at_an_event_boundary() {
    let (tx, service) = raw_stream_service();
    let layer = SseResponseLayer::new()
        .no_keep_alive()
        .max_lifetime(Duration::from_millis(300));
    let server = serve(ServiceBuilder::new().layer(layer).service(service), GRACE).await;
    let started = Instant::now();
    let response = http2()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    let mut body = response.into_body();
    tx.send(Bytes::from_static(b"data: one\n\ndata: unfinished"))
        .unwrap();
    assert_eq!(
        next_data(&mut body, GRACE).await.unwrap(),
        "data: one\n\ndata: unfinished"
    );
    // Past the lifetime, but inside an event: the stream goes on.
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.send(Bytes::from_static(b" still\n\n")).unwrap();
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), " still\n\n");
    // Now at a boundary: it ends (HTTP/2 may close with an empty DATA frame).
    let rest = tokio::time::timeout(GRACE, body.collect())
        .await
        .expect("the stream ends");
    assert_eq!(rest.unwrap().to_bytes(), "");
    assert!(started.elapsed() >= Duration::from_millis(270));
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_shutdown_token_ends_open_streams_so_graceful_shutdown_completes() {
    let shutdown = CancellationToken::new();
    let (tx, service) = raw_stream_service();
    let layer = keep_alive(10_000).shutdown_on(shutdown.clone());
    let server = serve(ServiceBuilder::new().layer(layer).service(service), GRACE).await;
    let response = http1()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    let mut body = response.into_body();
    tx.send(Bytes::from_static(b"data: live\n\n")).unwrap();
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), "data: live\n\n");
    shutdown.cancel();
    let started = Instant::now();
    assert!(body.frame().await.is_none(), "the stream ends");
    assert!(
        server.stop().await,
        "graceful shutdown completes with the stream open"
    );
    assert!(started.elapsed() < GRACE);
    drop(tx);
}

#[tokio::test]
async fn without_a_shutdown_token_an_open_stream_holds_graceful_shutdown() {
    // The pain point the token fixes, shown with the same server.
    let (tx, service) = raw_stream_service();
    let server = serve(
        ServiceBuilder::new()
            .layer(keep_alive(10_000))
            .service(service),
        Duration::from_millis(300),
    )
    .await;
    let response = http1()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    let mut body = response.into_body();
    tx.send(Bytes::from_static(b"data: live\n\n")).unwrap();
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), "data: live\n\n");
    assert!(
        !server.stop().await,
        "shutdown times out while the stream is open"
    );
    drop(tx);
}

#[tokio::test]
async fn a_client_that_goes_away_drops_the_stream() {
    struct Guard(Option<tokio::sync::oneshot::Sender<()>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.take().map(|tx| tx.send(()));
        }
    }
    let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(Guard(Some(dropped_tx)))));
    let service = service_fn(move |_request: Request<Incoming>| {
        let guard = guard.lock().unwrap().take();
        async move {
            let (tx, rx) = mpsc::unbounded_channel();
            tx.send(Bytes::from_static(b"data: hi\n\n")).unwrap();
            // The body holds the guard (and the sender, so it never ends).
            let body = ChannelBodyWithGuard(ChannelBody(rx), guard, tx);
            let mut response = Response::new(body);
            response.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("text/event-stream"),
            );
            Ok::<_, Infallible>(response)
        }
    });
    let server = serve(
        ServiceBuilder::new()
            .layer(SseResponseLayer::new())
            .service(service),
        GRACE,
    )
    .await;
    let response = http1()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    let mut body = response.into_body();
    assert_eq!(next_data(&mut body, GRACE).await.unwrap(), "data: hi\n\n");
    drop(body);
    tokio::time::timeout(GRACE, dropped_rx)
        .await
        .expect("the stream is dropped soon after the client leaves")
        .unwrap();
    assert!(server.stop().await);

    // Holds the guard, and the sender so that the body never ends by itself.
    struct ChannelBodyWithGuard(
        ChannelBody,
        #[allow(dead_code)] Option<Guard>,
        #[allow(dead_code)] mpsc::UnboundedSender<Bytes>,
    );
    impl http_body::Body for ChannelBodyWithGuard {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
            std::pin::Pin::new(&mut self.0).poll_frame(cx)
        }
    }
}

#[tokio::test]
async fn compression_in_front_leaves_event_streams_alone() {
    use tower_http::compression::CompressionLayer;
    let (tx, service) = raw_stream_service();
    let stack = ServiceBuilder::new()
        .layer(CompressionLayer::new())
        .layer(SseResponseLayer::new())
        .service(service);
    let server = serve(stack, GRACE).await;
    let request = Request::get(server.url("/events"))
        .header("accept-encoding", "gzip")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = http1().request(request).await.unwrap();
    assert!(response.headers().get("content-encoding").is_none());
    let mut body = response.into_body();
    // Each event arrives when it is sent, not when a compressor's buffer fills.
    for n in 0..3 {
        let event = Bytes::from(format!("data: {n}\n\n"));
        tx.send(event.clone()).unwrap();
        assert_eq!(next_data(&mut body, GRACE).await.unwrap(), event);
    }
    drop(tx);
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_request_timeout_does_not_cut_a_healthy_stream() {
    use tower_http::timeout::TimeoutLayer;
    let (tx, service) = raw_stream_service();
    let stack = ServiceBuilder::new()
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(100),
        ))
        .layer(keep_alive(50))
        .service(service);
    let server = serve(stack, GRACE).await;
    let response = http2()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let started = Instant::now();
    let mut comments = 0;
    while started.elapsed() < Duration::from_millis(500) {
        assert_eq!(next_data(&mut body, GRACE).await.unwrap(), ": ka\n");
        comments += 1;
    }
    tx.send(Bytes::from_static(b"data: still here\n\n"))
        .unwrap();
    assert_eq!(
        next_data(&mut body, GRACE).await.unwrap(),
        "data: still here\n\n"
    );
    assert!(comments >= 5);
    drop(tx);
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_trace_layer_in_front_lets_a_long_lived_stream_flow_event_by_event() {
    use tower_http::trace::TraceLayer;
    let (tx, service) = raw_stream_service();
    let stack = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(keep_alive(10_000))
        .service(service);
    let server = serve(stack, GRACE).await;
    let response = http2()
        .get(server.url("/events").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let mut body = response.into_body();
    for n in 0..5 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let event = Bytes::from(format!("id: {n}\ndata: {n}\n\n"));
        tx.send(event.clone()).unwrap();
        assert_eq!(next_data(&mut body, GRACE).await.unwrap(), event);
    }
    drop(tx);
    assert!(
        tokio::time::timeout(GRACE, body.collect()).await.is_ok(),
        "the stream ends with the handler's body"
    );
    assert!(server.stop().await);
}
