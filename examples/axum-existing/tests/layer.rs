//! The existing app on 127.0.0.1: its hand-written stream gains headers and
//! keep-alive; its other route is untouched.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[tokio::test]
async fn the_hand_written_stream_gains_headers_and_keep_alive() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = example_axum_existing::app(Duration::from_millis(100));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();

    let response = client
        .get(format!("{base}/progress").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let mut body = response.into_body();
    let mut received = Vec::new();
    while !received.ends_with(b"data: 90%\n\n:\n") {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("more of the stream")
            .unwrap()
            .unwrap();
        received.extend_from_slice(&frame.into_data().unwrap());
    }
    let text = String::from_utf8(received).unwrap();
    assert!(text.starts_with("event: progress\ndata: 10%\n\n"), "{text}");

    let response = client
        .get(format!("{base}/").parse().unwrap())
        .await
        .unwrap();
    assert!(response.headers().get("x-accel-buffering").is_none());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "an existing app; its event stream is at /progress");
}
