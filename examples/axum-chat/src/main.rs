//! A chat over Server-Sent Events: axum, with the sse hub.
//!
//! ```text
//! cargo run -p example-axum-chat
//! ```
//!
//! Then open the address it prints (http://127.0.0.1:3000 unless `PORT` is
//! set) in two browser windows. Built with `--features redis` and run with
//! `REDIS_URL` set, messages are kept in
//! that Redis, shared with every instance started the same way. `RETRY_MS`,
//! `KEEP_ALIVE_MS` and `MAX_LIFETIME_MS` set up the event streams (see
//! `StreamSettings`); `STALL_TIMEOUT_MS` (30 s, `0` for none) is how long a
//! client may leave events unread before its connection is released. Ctrl-C (or SIGTERM) shuts it down gracefully: it stops accepting
//! connections, every open event stream receives a last event (`bye`) and
//! ends, and clients reconnect elsewhere.

// A server prints where it listens and why it stops: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::serve::ListenerExt;
use example_axum_chat::StoppableListener;
use sse_axum::SseResponseLayer;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    example_chat_common::observe::init_logs();
    let port = match example_chat_common::port(3000) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let settings = match example_chat_common::StreamSettings::from_env() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let stall_timeout = match example_chat_common::stalled::stall_timeout_from_env() {
        Ok(timeout) => timeout,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    // Before the hub is built: it takes its counters from the recorder.
    let metrics = match example_chat_common::observe::install_metrics() {
        Ok(metrics) => metrics,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let (chat, backend) = match example_chat_common::chat_from_env(env!("CARGO_PKG_NAME")).await {
        Ok(chat) => chat,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let hub = chat.hub().clone();
    let app = example_axum_chat::app_with(chat, settings);
    let app = example_axum_chat::with_metrics(app, metrics)
        .layer(SseResponseLayer::new().shutdown_on(shutdown.clone()));

    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("SSE chat (axum) on http://{address}, messages {backend}");

    // Graceful shutdown, in order: accept no more connections, so that
    // clients that reconnect go elsewhere instead of reaching a closed hub;
    // let axum start its graceful shutdown (this future returns), which also
    // ends keep-alive on the open connections, so a reconnect cannot come
    // back on one of them; close the hub, so that each stream sends what its
    // client has not read, then the final event, and ends; after the grace
    // period, end at an event boundary the streams still open (a client that
    // stopped reading); and if even that is not read, stop waiting for them.
    let stop_accepting = CancellationToken::new();
    let stopped = stop_accepting.clone();
    let stopping = async move {
        example_chat_common::stop_signal().await;
        println!("shutting down");
        stop_accepting.cancel();
        tokio::spawn(async move {
            example_chat_common::close_hub(&hub).await;
            shutdown.cancel();
        });
    };
    // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
    // hold one back until the client's delayed ACK (sse-load measured about
    // one event in a hundred arriving 18 ms late).
    let listener = StoppableListener::new(listener, stopped.clone()).tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // axum's serve, with a bound on reading headers (a client that sends
    // them a byte at a time is cut off) and on a client that stops reading
    // (its connection is released); bodies are bounded by the chat.
    let serve = sse_axum::serve(listener, app)
        .header_read_timeout(example_chat_common::HEADER_READ_TIMEOUT)
        .stall_timeout(stall_timeout)
        .with_graceful_shutdown(stopping)
        .into_future();
    let last_wait = async {
        stopped.cancelled().await;
        tokio::time::sleep(example_chat_common::SHUTDOWN_GRACE + Duration::from_secs(2)).await;
    };
    tokio::select! {
        served = serve => {
            if let Err(error) = served {
                eprintln!("server error: {error}");
                return ExitCode::FAILURE;
            }
        }
        () = last_wait => println!("connections still open after the grace period; stopping"),
    }
    // Give the last frames a moment to leave.
    tokio::time::sleep(Duration::from_millis(50)).await;
    ExitCode::SUCCESS
}
