//! Compressed streams through a real axum server on 127.0.0.1, read by
//! `curl --compressed -N` for every codec compiled in: each event is
//! published only once curl has printed the one before, so an event that
//! waited in the compressor would stall the test.
//!
//! ```text
//! cargo test -p sse-axum --features gzip,br,zstd --test compression
//! ```
#![cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
#![allow(clippy::print_stderr)]

use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use futures_util::Stream;
use sse_axum::compression::{Codec, Codecs, Compression};
use sse_axum::{Event, Sse};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// A receiver as a stream, without pulling in tokio-stream.
struct Receiver(mpsc::UnboundedReceiver<Event>);

impl Stream for Receiver {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.0.poll_recv(cx)
    }
}

/// The next stream the server hands out.
type Next = Arc<Mutex<Option<mpsc::UnboundedReceiver<Event>>>>;

async fn events(
    State(next): State<Next>,
    headers: HeaderMap,
) -> Sse<sse_engine::InfallibleStream<Receiver>> {
    let receiver = next
        .lock()
        .unwrap()
        .take()
        .expect("one stream per test step");
    Sse::from_infallible_stream(Receiver(receiver))
        .retry(Duration::from_secs(1))
        .initial_comment("open")
        .compression(Compression::from_accept_encoding(&headers))
}

async fn serve() -> (String, Next) {
    let next: Next = Arc::default();
    let app = Router::new()
        .route("/events", get(events))
        .with_state(next.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/events"), next)
}

fn curl_present() -> bool {
    std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// What the chat suite sends: every kind of line break, empty data, leading
/// spaces, unicode, a long line, and an LLM-shaped delta.
fn corpus() -> Vec<(Event, Vec<String>)> {
    let long = "y".repeat(10_000);
    let delta = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" hi"}}]}"#;
    vec![
        (Event::new().data("one"), vec!["data: one".into()]),
        (
            Event::new().data("lf\ncr\rcrlf\r\nend"),
            vec![
                "data: lf".into(),
                "data: cr".into(),
                "data: crlf".into(),
                "data: end".into(),
            ],
        ),
        (Event::new().data(""), vec!["data:".into()]),
        (Event::new().data("  spaces"), vec!["data:   spaces".into()]),
        (
            Event::new().event("u").data("héllo ✓ 🚀 日本語"),
            vec!["event: u".into(), "data: héllo ✓ 🚀 日本語".into()],
        ),
        (
            Event::new().data(long.clone()),
            vec![format!("data: {long}")],
        ),
        (
            Event::new().id(7u64).data(delta),
            vec!["id: 7".into(), format!("data: {delta}")],
        ),
    ]
}

#[tokio::test]
async fn curl_reads_each_event_before_the_next_is_published() {
    if !curl_present() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let (url, next) = serve().await;
    for codec in Codecs::new().iter() {
        read_every_event_on_time(&url, &next, codec).await;
    }
}

async fn read_every_event_on_time(url: &str, next: &Next, codec: Codec) {
    let (sender, receiver) = mpsc::unbounded_channel();
    *next.lock().unwrap() = Some(receiver);
    let mut curl = Command::new("curl")
        .args(["--compressed", "-N", "-s", "-i", "-H"])
        .arg(format!("Accept-Encoding: {codec}"))
        .arg(url)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(curl.stdout.take().unwrap()).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{codec}: no line within 5 s"))
            .unwrap()
            .unwrap_or_else(|| panic!("{codec}: curl's output ended"))
    };

    // The head, then the opening block: flushed on its own, before any event.
    let mut head = Vec::new();
    loop {
        let line = next_line().await;
        if line.trim().is_empty() {
            break;
        }
        head.push(line.to_ascii_lowercase());
    }
    assert!(
        head.iter()
            .any(|line| line.trim() == format!("content-encoding: {codec}")),
        "{codec}: {head:?}"
    );
    assert!(
        head.iter()
            .any(|line| line.trim() == "vary: accept-encoding"),
        "{codec}: {head:?}"
    );
    assert_eq!(next_line().await, ": open", "{codec}");
    assert_eq!(next_line().await, "retry: 1000", "{codec}");

    for (event, expected) in corpus() {
        sender.send(event).unwrap();
        for line in expected {
            assert_eq!(next_line().await, line, "{codec}");
        }
        assert_eq!(
            next_line().await,
            "",
            "{codec}: the blank line that ends the event"
        );
    }
    drop(sender);
    let status = tokio::time::timeout(Duration::from_secs(5), curl.wait())
        .await
        .expect("curl ends with the stream")
        .unwrap();
    // curl checks the compressed stream's end (gzip's CRC and length).
    assert!(status.success(), "{codec}: curl exited with {status}");
}

#[tokio::test]
async fn a_client_that_did_not_ask_gets_identity() {
    let (url, next) = serve().await;
    let (sender, receiver) = mpsc::unbounded_channel();
    *next.lock().unwrap() = Some(receiver);
    sender.send(Event::new().data("plain")).unwrap();
    drop(sender);
    let mut stream = tokio::net::TcpStream::connect(
        url.trim_start_matches("http://")
            .trim_end_matches("/events"),
    )
    .await
    .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /events HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let response = String::from_utf8(response).unwrap().to_ascii_lowercase();
    assert!(!response.contains("content-encoding"), "{response}");
    assert!(response.contains("vary: accept-encoding"), "{response}");
    assert!(response.contains("data: plain\n\n"), "{response}");
}
