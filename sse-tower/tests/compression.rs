//! The SSE response layer compressing a handler's own event-stream body in
//! front of a real hyper server on 127.0.0.1, for every codec compiled in:
//! each event decodes as soon as it is sent (the test sends the next only
//! then), keep-alive comments are compressed with the stream and never land
//! inside an event, and tower-http's `CompressionLayer` beside it changes
//! nothing.
//!
//! ```text
//! cargo test -p sse-tower --features gzip,br,zstd --test compression
//! ```
#![cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]

mod support;

use std::convert::Infallible;
use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Empty;
use hyper::body::Incoming;
use sse_engine::compression::{Codec, Codecs};
use sse_engine::hub::{Endpoint, Hub};
use sse_engine::{Event, KeepAlive};
use sse_tower::EndpointService;
use sse_tower::response::SseResponseLayer;
use support::{ChannelBody, http1, next_data, serve};
use tokio::sync::mpsc;
use tower::{ServiceBuilder, service_fn};
use tower_http::compression::CompressionLayer;

const WAIT: Duration = Duration::from_secs(5);

/// Decodes what has arrived so far, as a client reading the stream does.
fn decode_so_far(codec: Codec, compressed: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Gzip => {
            let mut decoder = flate2::write::GzDecoder::new(Vec::new());
            let _ = decoder.write_all(compressed);
            let _ = decoder.flush();
            decoder.get_ref().clone()
        }
        Codec::Brotli => {
            let mut decoder = brotli::Decompressor::new(compressed, 4096);
            let (mut out, mut chunk) = (Vec::new(), [0; 1024]);
            while let Ok(read @ 1..) = decoder.read(&mut chunk) {
                out.extend_from_slice(&chunk[..read]);
            }
            out
        }
        Codec::Zstd => {
            let mut decoder = zstd::stream::write::Decoder::new(Vec::new()).unwrap();
            let _ = decoder.write_all(compressed);
            let _ = decoder.flush();
            decoder.get_ref().clone()
        }
        _ => unreachable!(),
    }
}

/// Decodes a whole stream, checking its end (gzip's trailer, for example).
fn decode_whole(codec: Codec, compressed: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match codec {
        Codec::Gzip => {
            flate2::read::GzDecoder::new(compressed)
                .read_to_end(&mut out)
                .unwrap();
        }
        Codec::Brotli => {
            brotli::Decompressor::new(compressed, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Codec::Zstd => out = zstd::stream::decode_all(compressed).unwrap(),
        _ => unreachable!(),
    }
    out
}

/// A server whose event-stream responses (raw bytes, the handler's own
/// body type, with `content_encoding` if set) are fed by the senders
/// the test takes from the returned queue, one per request.
async fn server(
    content_encoding: Option<&'static str>,
) -> (
    support::Server,
    mpsc::UnboundedReceiver<mpsc::UnboundedSender<Bytes>>,
) {
    let (senders_tx, senders_rx) = mpsc::unbounded_channel();
    let senders_tx = Arc::new(Mutex::new(senders_tx));
    let handler = service_fn(move |_request: Request<Incoming>| {
        let (tx, rx) = mpsc::unbounded_channel();
        senders_tx.lock().unwrap().send(tx).unwrap();
        async move {
            let mut response = Response::new(ChannelBody(rx));
            let headers = response.headers_mut();
            headers.insert(
                "content-type",
                HeaderValue::from_static("text/event-stream"),
            );
            if let Some(coding) = content_encoding {
                headers.insert("content-encoding", HeaderValue::from_static(coding));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let service = ServiceBuilder::new()
        // tower-http's compression, beside: it keeps skipping event streams.
        .layer(CompressionLayer::new())
        .layer(
            SseResponseLayer::new()
                .keep_alive(
                    KeepAlive::new()
                        .interval(Duration::from_millis(200))
                        .text("ka"),
                )
                .compression(Codecs::new()),
        )
        .service(handler);
    (serve(service, WAIT).await, senders_rx)
}

fn request(url: &str, accept_encoding: &str) -> Request<Empty<Bytes>> {
    Request::get(url)
        .header("accept-encoding", accept_encoding)
        .body(Empty::new())
        .unwrap()
}

#[tokio::test]
async fn each_event_decodes_on_arrival_with_keep_alive_between_events() {
    let (server, mut senders) = server(None).await;
    for codec in Codecs::new().iter() {
        let response = http1()
            .request(request(&server.url("/"), codec.as_str()))
            .await
            .unwrap();
        let tx = senders.recv().await.unwrap();
        assert_eq!(
            response.headers()["content-encoding"],
            codec.as_str(),
            "{codec}"
        );
        assert_eq!(response.headers()["vary"], "accept-encoding", "{codec}");
        let mut body = response.into_body();
        let mut received = Vec::new();
        let mut expected = String::new();

        for n in 0..5 {
            let event = format!("id: {n}\ndata: {{\"delta\":\"token {n}\"}}\n\n");
            tx.send(Bytes::from(event.clone())).unwrap();
            expected.push_str(&event);
            // Publish the next only once this one decodes.
            while decode_so_far(codec, &received) != expected.as_bytes() {
                let data = next_data(&mut body, WAIT).await.expect("the event on time");
                received.extend_from_slice(&data);
            }
        }

        // Half an event, then silence: no keep-alive may land inside it.
        tx.send(Bytes::from_static(b"data: hal")).unwrap();
        expected.push_str("data: hal");
        while decode_so_far(codec, &received) != expected.as_bytes() {
            received.extend_from_slice(&next_data(&mut body, WAIT).await.unwrap());
        }
        assert!(
            next_data(&mut body, Duration::from_millis(500))
                .await
                .is_none()
        );
        tx.send(Bytes::from_static(b"f\n\n")).unwrap();
        expected.push_str("f\n\n");
        // Then, idle between events: the comment comes, compressed (more
        // than one, if the test is slow to end the stream).
        expected.push_str(": ka\n");
        while decode_so_far(codec, &received) != expected.as_bytes() {
            received.extend_from_slice(&next_data(&mut body, WAIT).await.expect("keep-alive"));
        }

        drop(tx);
        while let Some(data) = next_data(&mut body, WAIT).await {
            received.extend_from_slice(&data);
        }
        let decoded = String::from_utf8(decode_whole(codec, &received)).unwrap();
        let rest = decoded
            .strip_prefix(&expected)
            .unwrap_or_else(|| panic!("{codec}: {decoded:?}"));
        assert!(
            rest.split_terminator('\n').all(|line| line == ": ka"),
            "{codec}: {rest:?}"
        );
    }
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_client_that_did_not_ask_gets_the_stream_as_it_is() {
    let (server, mut senders) = server(None).await;
    for accept in ["identity", "deflate", "gzip;q=0, br;q=0, zstd;q=0"] {
        let response = http1()
            .request(request(&server.url("/"), accept))
            .await
            .unwrap();
        let tx = senders.recv().await.unwrap();
        assert!(
            response.headers().get("content-encoding").is_none(),
            "{accept}"
        );
        assert_eq!(response.headers()["vary"], "accept-encoding");
        tx.send(Bytes::from_static(b"data: plain\n\n")).unwrap();
        let mut body = response.into_body();
        assert_eq!(next_data(&mut body, WAIT).await.unwrap(), "data: plain\n\n");
    }
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_response_already_encoded_is_left_alone() {
    let (server, mut senders) = server(Some("br")).await;
    let response = http1()
        .request(request(&server.url("/"), "gzip, br, zstd"))
        .await
        .unwrap();
    let tx = senders.recv().await.unwrap();
    assert_eq!(response.headers()["content-encoding"], "br");
    assert!(response.headers().get("vary").is_none());
    // The handler's bytes, as they are (the layer cannot read them).
    tx.send(Bytes::from_static(b"opaque")).unwrap();
    let mut body = response.into_body();
    assert_eq!(next_data(&mut body, WAIT).await.unwrap(), "opaque");
    drop((tx, body));
    assert!(server.stop().await);
}

#[tokio::test]
async fn a_hub_endpoint_compresses_each_subscriber_s_stream() {
    let hub = Hub::new();
    let endpoint = Endpoint::new(hub.clone(), ["prices"]).compression(Codecs::new());
    let server = serve(EndpointService::from(endpoint), WAIT).await;
    for codec in Codecs::new().iter() {
        let response = http1()
            .request(request(&server.url("/"), codec.as_str()))
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-encoding"],
            codec.as_str(),
            "{codec}"
        );
        assert_eq!(response.headers()["vary"], "accept-encoding", "{codec}");
        let mut body = response.into_body();
        let mut received = Vec::new();
        for n in 0..3 {
            let id = hub
                .publish("prices", Event::new().data(format!("price {n}")))
                .await
                .unwrap();
            let expected = format!("id: {id}\ndata: price {n}\n\n");
            // The next is published only once this one decodes.
            while !decode_so_far(codec, &received).ends_with(expected.as_bytes()) {
                let data = next_data(&mut body, WAIT).await.expect("the event on time");
                received.extend_from_slice(&data);
            }
        }
    }
    // A client that did not ask gets the stream as it is.
    let response = http1()
        .request(request(&server.url("/"), "identity"))
        .await
        .unwrap();
    assert!(response.headers().get("content-encoding").is_none());
    drop(response);
    hub.close(None);
    assert!(server.stop().await);
}
