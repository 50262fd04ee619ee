//! The load tool's client against servers that misbehave: each gets an error
//! or a count of lost events, never a panic or a wait without end.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use sse_bench::load::client::http::subscribers;
use sse_bench::load::client::runtime;
use sse_bench::load::client::subscriber::Subscriber;
use sse_bench::load::scenario::wait_subscribers;

/// A server that reads each request head, writes `response` (nothing when
/// empty) and keeps the connection open for a minute.
fn server(response: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let _ = stream.write_all(response.as_bytes());
                std::thread::sleep(Duration::from_secs(60));
            });
        }
    });
    address
}

fn stats(response: &'static str) -> Result<Option<u64>, String> {
    runtime()
        .expect("runtime")
        .block_on(subscribers(server(response)))
        .map_err(|error| error.to_string())
}

#[test]
fn a_count_is_read_only_from_200_with_a_number() {
    assert_eq!(
        stats("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n7\n"),
        Ok(Some(7))
    );
    assert_eq!(
        stats("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
        Ok(None)
    );
    let error = stats("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n");
    assert!(
        error.as_ref().is_err_and(|error| error.contains("500")),
        "{error:?}"
    );
    let error = stats("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc");
    assert!(
        error.as_ref().is_err_and(|error| error.contains("abc")),
        "{error:?}"
    );
}

#[test]
fn a_server_that_never_answers_ends_the_wait() {
    let start = Instant::now();
    let result = wait_subscribers(server(""), |_| true, Duration::from_millis(300));
    let error = result.expect_err("no answer").to_string();
    assert!(error.contains("GET /stats"), "{error}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn sequence_numbers_out_of_range_are_lost_events() {
    let address = server(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 52\r\n\r\n\
         data: {\"seq\":18446744073709551615,\"ns\":0}\n\ndata: x\n\n",
    );
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let delivery = runtime().expect("runtime").block_on(async {
        let subscriber = Subscriber::open(address, None, "/events")
            .await
            .expect("open");
        subscriber.receive(Some(3), stopped).await
    });
    assert_eq!(delivery.error, None);
    assert_eq!((delivery.lost, delivery.repeated), (3, 0));
}
