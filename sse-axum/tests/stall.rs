//! `sse_axum::serve` releases the connection of a client that stops reading
//! (the stall timeout), and not that of a client that reads slowly; with
//! the timeout switched off the stalled one is kept. Real TCP clients on
//! 127.0.0.1; the server's streams count themselves out when dropped.
#![cfg(all(feature = "serve", target_os = "linux"))]

use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use futures_util::stream;
use sse_axum::{Event, Sse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Counts the event streams the server has dropped.
#[derive(Clone, Default)]
struct Released(Arc<AtomicUsize>);

impl Released {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

struct OnDrop(Released);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Serves `/events`, an endless stream of 4 KiB events, as fast as the
/// client takes them: the client is always what the stream waits for.
async fn start(stall_timeout: Option<Duration>) -> (std::net::SocketAddr, Released) {
    let released = Released::default();
    let counter = released.clone();
    let app = Router::new().route(
        "/events",
        get(move || {
            let guard = OnDrop(counter.clone());
            let data = "x".repeat(4096);
            let events = stream::repeat_with(move || {
                let _ = &guard;
                Ok::<_, std::convert::Infallible>(Event::new().data(data.as_str()))
            });
            async move { Sse::new(events) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(
        sse_axum::serve(listener, app)
            .stall_timeout(stall_timeout)
            .into_future(),
    );
    (address, released)
}

/// A client with a small receive buffer that sends its request and never
/// reads.
async fn stalled_client(address: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    stream
}

/// Waits up to `limit` for `released` to reach `count`.
async fn released_within(released: &Released, count: usize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if released.count() >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    released.count() >= count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_released_after_the_stall_timeout() {
    let (address, released) = start(Some(Duration::from_millis(500))).await;
    let _client = stalled_client(address).await;
    assert!(
        released_within(&released, 1, Duration::from_secs(20)).await,
        "the stalled client's stream was never released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_stall_timeout_a_client_that_stops_reading_is_kept() {
    let (address, released) = start(None).await;
    let _client = stalled_client(address).await;
    assert!(
        !released_within(&released, 1, Duration::from_secs(3)).await,
        "released without a stall timeout: the test shows nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_slowly_is_not_cut() {
    // A timeout that a reading client cannot miss even on a loaded machine
    // (a reader starved of CPU for longer would be stalled for real), still
    // shorter than the 3 s it reads for.
    let (address, released) = start(Some(Duration::from_secs(2))).await;
    let mut client = TcpStream::connect(address).await.unwrap();
    client
        .write_all(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // 32 KiB every 50 ms: far slower than the server writes, so the stream
    // waits on this client all along (on loopback, with 64 KiB segments, a
    // client must read a few hundred KiB per timeout to count as reading).
    let mut buffer = vec![0; 32 * 1024];
    let mut read = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = client.read(&mut buffer).await.expect("the stream was cut");
        assert!(n > 0, "the stream ended");
        read += n;
    }
    assert_eq!(released.count(), 0, "the slow client's stream was released");
    assert!(read > 32 * 1024, "read only {read} bytes");
}
