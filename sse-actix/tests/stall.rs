//! `sse_actix::stall_timeout` on a real `HttpServer`: the connection of a
//! client that stops reading is released after the timeout, and kept
//! without the hook. Real TCP clients on 127.0.0.1; the server's streams
//! count themselves out when dropped.
#![cfg(target_os = "linux")]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, web};
use futures_util::stream;
use sse_actix::{Event, Sse};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

struct OnDrop(Arc<AtomicUsize>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Serves `/events`, an endless stream of 4 KiB events, as fast as the
/// client takes them; returns the address and the count of streams the
/// server has dropped.
fn start(stall_timeout: Option<Duration>) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let released = Arc::new(AtomicUsize::new(0));
    let counter = released.clone();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().route(
            "/events",
            web::get().to(move || {
                let guard = OnDrop(counter.clone());
                let data = "x".repeat(4096);
                let events = stream::repeat_with(move || {
                    let _ = &guard;
                    Ok::<_, Infallible>(Event::new().data(data.as_str()))
                });
                async move { Sse::new(events) }
            }),
        )
    })
    .workers(1)
    .disable_signals();
    let server = server.on_connect(sse_actix::stall_timeout(stall_timeout));
    let server = server.bind(("127.0.0.1", 0)).unwrap();
    let address = server.addrs()[0];
    actix_web::rt::spawn(server.run());
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

async fn released_within(released: &AtomicUsize, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if released.load(Ordering::SeqCst) > 0 {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    released.load(Ordering::SeqCst) > 0
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_released_after_the_stall_timeout() {
    let (address, released) = start(Some(Duration::from_millis(500)));
    let _client = stalled_client(address).await;
    assert!(
        released_within(&released, Duration::from_secs(20)).await,
        "the stalled client's stream was never released"
    );
}

#[actix_web::test]
async fn without_the_hook_a_client_that_stops_reading_is_kept() {
    let (address, released) = start(None);
    let _client = stalled_client(address).await;
    assert!(
        !released_within(&released, Duration::from_secs(3)).await,
        "released without a stall timeout: the test shows nothing"
    );
}
