//! `sse_axum::serve` on 127.0.0.1 with raw TCP clients: a client that sends
//! its headers too slowly is cut off, while an event stream runs on past
//! the header timeout, and a graceful shutdown ends the server.
#![cfg(feature = "serve")]

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use futures_util::stream;
use sse_axum::{Event, KeepAlive, Sse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HEADER_TIMEOUT: Duration = Duration::from_millis(300);

/// Serves a page and an endless event stream (one comment every 100 ms)
/// until `stop` is sent.
async fn start() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let app = Router::new().route("/", get(|| async { "hello" })).route(
        "/events",
        get(|| async {
            let events = stream::pending::<Result<Event, std::convert::Infallible>>();
            Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_millis(100)))
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        sse_axum::serve(listener, app)
            .header_read_timeout(HEADER_TIMEOUT)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (address, stop, server)
}

/// Reads until the server closes the connection, or `limit` passes.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_client_that_sends_its_headers_a_byte_at_a_time_is_cut_off() {
    let (address, stop, server) = start().await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // Dripping one header byte every 50 ms does not keep them alive.
    let started = Instant::now();
    for _ in 0..4 {
        for stream in &mut slow {
            let _ = stream.write_all(b"X").await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for stream in &mut slow {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "a slow client still holds its connection"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    // A request that arrives whole is answered meanwhile and after.
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_event_stream_outlives_the_header_timeout_and_ends_with_the_server() {
    let (address, stop, server) = start().await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Four header timeouts long, the stream is still open and writing.
    let mut received = Vec::new();
    let until = tokio::time::Instant::now() + HEADER_TIMEOUT * 4;
    let mut buffer = [0u8; 1024];
    while tokio::time::Instant::now() < until {
        match tokio::time::timeout_at(until, stream.read(&mut buffer)).await {
            Err(_) => break,
            Ok(Ok(0) | Err(_)) => panic!(
                "the stream was closed: {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("text/event-stream"), "{text}");
    assert!(
        text.matches(":\n").count() >= 5,
        "keep-alive comments: {text}"
    );

    // The graceful shutdown waits for the stream: it ends when the client
    // goes away.
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!server.is_finished(), "returned with a stream still open");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still accepting after the shutdown began"
    );
    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server returns once its connections are closed")
        .unwrap()
        .unwrap();
}
