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
//! `StreamSettings`). Ctrl-C shuts it down gracefully: it stops accepting
//! connections, every open event stream receives a last event (`bye`) and
//! ends, and clients reconnect elsewhere.

// A server prints where it listens and why it stops: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::serve::ListenerExt;
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
    let settings = match example_chat_common::StreamSettings::from_env() {
        Ok(settings) => settings,
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
    let app = example_axum_chat::app_with(hub.clone(), settings)
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

    // Once this future is done, the server accepts no more connections, so
    // that clients that reconnect go elsewhere instead of being refused by a
    // closed hub. Then the hub closes: each stream sends what its client has
    // not read, the final event, and ends; streams still open after the
    // grace period (a client that stopped reading) are ended at an event
    // boundary by the layer.
    let stopping = async move {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down");
        tokio::spawn(async move {
            let left = hub
                .shutdown(
                    Some(example_chat_common::final_event()),
                    example_chat_common::SHUTDOWN_GRACE,
                )
                .await;
            if left > 0 {
                println!("{left} streams had not ended after the grace period");
            }
            shutdown.cancel();
        });
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
