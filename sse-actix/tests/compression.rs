//! The actix `Sse` negotiating its own compression behind actix's
//! `Compress` middleware: it says its coding (identity when none), and the
//! middleware neither compresses it again nor buffers it.
//!
//! ```text
//! cargo test -p sse-actix --features gzip,br,zstd --test compression
//! ```
#![cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]

use std::convert::Infallible;
use std::future::poll_fn;
use std::io::Write as _;
use std::pin::pin;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::middleware::Compress;
use actix_web::{App, test, web};
use sse_actix::compression::{Codec, Codecs};
use sse_actix::{Event, Sse};
use tokio::sync::mpsc;

/// The events the test sends, one at a time.
type Sender = mpsc::UnboundedSender<Result<Event, Infallible>>;

struct Receiver(mpsc::UnboundedReceiver<Result<Event, Infallible>>);

impl futures_core::Stream for Receiver {
    type Item = Result<Event, Infallible>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// An app behind `Compress` whose `/events` streams what the sender sends,
/// compressed as negotiated.
macro_rules! app_with_stream {
    () => {{
        let (sender, receiver): (Sender, _) = mpsc::unbounded_channel();
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(Some(receiver)));
        let app = test::init_service(App::new().wrap(Compress::default()).route(
            "/events",
            web::get().to(move || {
                let receiver = receiver.lock().unwrap().take().expect("one request");
                async move {
                    Sse::new(Receiver(receiver))
                        .initial_comment("open")
                        .negotiate_compression(Codecs::new())
                }
            }),
        ))
        .await;
        (app, sender)
    }};
}

#[actix_web::test]
async fn the_stream_says_its_negotiated_coding_and_compress_leaves_it_alone() {
    for codec in Codecs::new().iter() {
        let (app, _sender) = app_with_stream!();
        let request = test::TestRequest::get()
            .uri("/events")
            .insert_header(("accept-encoding", codec.as_str()))
            .to_request();
        let response = test::call_service(&app, request).await;
        let headers = response.headers();
        assert_eq!(headers.get("content-encoding").unwrap(), codec.as_str());
        assert_eq!(headers.get_all("content-encoding").count(), 1);
        assert_eq!(headers.get("vary").unwrap(), "accept-encoding");
    }
}

#[actix_web::test]
async fn a_client_that_asked_for_none_of_ours_gets_identity_not_compress_s() {
    let (app, sender) = app_with_stream!();
    // Compress would answer `deflate` itself; the stream says identity.
    let request = test::TestRequest::get()
        .uri("/events")
        .insert_header(("accept-encoding", "deflate"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(
        response.headers().get("content-encoding").unwrap(),
        "identity"
    );
    sender.send(Ok(Event::new().data("plain"))).unwrap();
    drop(sender);
    let mut body = pin!(response.into_body());
    let mut bytes = Vec::new();
    while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, b": open\ndata: plain\n\n");
}

#[cfg(feature = "gzip")]
#[actix_web::test]
async fn each_gzip_chunk_decodes_on_arrival_through_compress() {
    let (app, sender) = app_with_stream!();
    let request = test::TestRequest::get()
        .uri("/events")
        .insert_header(("accept-encoding", "gzip"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(
        response.headers().get("content-encoding").unwrap(),
        Codec::Gzip.as_str()
    );
    let mut body = pin!(response.into_body());
    let mut decoder = flate2::write::GzDecoder::new(Vec::new());
    let mut next_chunk = async || {
        let chunk = tokio::time::timeout(
            Duration::from_secs(5),
            poll_fn(|cx| body.as_mut().poll_next(cx)),
        )
        .await
        .expect("a chunk on time")
        .expect("the stream goes on")
        .unwrap();
        decoder.write_all(&chunk).unwrap();
        decoder.flush().unwrap();
        let decoded = String::from_utf8(decoder.get_ref().clone()).unwrap();
        decoder.get_mut().clear();
        decoded
    };
    assert_eq!(next_chunk().await, ": open\n");
    for n in 0..5 {
        sender
            .send(Ok(Event::new().data(format!("event {n}"))))
            .unwrap();
        assert_eq!(next_chunk().await, format!("data: event {n}\n\n"));
    }
}

#[actix_web::test]
async fn a_hub_endpoint_negotiates_for_get_and_head() {
    use sse_actix::hub::{Endpoint, Hub};

    let endpoint = Endpoint::new(Hub::new(), ["prices"]).compression(Codecs::new());
    let app = test::init_service(
        App::new()
            .wrap(Compress::default())
            .service(sse_actix::endpoint_resource("/events", endpoint)),
    )
    .await;
    for codec in Codecs::new().iter() {
        for request in [
            test::TestRequest::get(),
            test::TestRequest::default().method(actix_web::http::Method::HEAD),
        ] {
            let request = request
                .uri("/events")
                .insert_header(("accept-encoding", codec.as_str()))
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), 200);
            assert_eq!(
                response.headers().get("content-encoding").unwrap(),
                codec.as_str()
            );
            assert_eq!(response.headers().get("vary").unwrap(), "accept-encoding");
        }
    }
}
