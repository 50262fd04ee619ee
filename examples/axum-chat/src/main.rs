//! A chat over Server-Sent Events: axum, with the sse hub.
//!
//! ```text
//! cargo run -p example-axum-chat
//! ```
//!
//! Then open the address it prints (http://127.0.0.1:3000 unless `PORT` is
//! set) in two browser windows. With `REDIS_URL` set, messages are kept in
//! that Redis, shared with every instance started the same way. Ctrl-C shuts
//! it down gracefully: open event streams end at once, with a last event, and
//! clients reconnect elsewhere.

// A server prints where it listens and why it stops: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::serve::ListenerExt;
use sse_core::Event;
use sse_tower::response::SseResponseLayer;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    let port = match example_chat_common::port(3000) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let (hub, backend) = match example_axum_chat::hub_from_env().await {
        Ok(hub) => hub,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let app = example_axum_chat::app(hub.clone())
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

    let stopping = async move {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down");
        hub.close(Some(Event::new().event("bye").data("server restarting")));
        shutdown.cancel();
    };
    // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
    // hold one back until the client's delayed ACK (sse-load measured about
    // one event in a hundred arriving 18 ms late).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(stopping)
        .await
    {
        eprintln!("server error: {error}");
        return ExitCode::FAILURE;
    }
    // Give the last frames a moment to leave.
    tokio::time::sleep(Duration::from_millis(50)).await;
    ExitCode::SUCCESS
}
