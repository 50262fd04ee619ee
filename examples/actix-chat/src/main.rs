//! A chat over Server-Sent Events: actix-web, with the sse hub. The same
//! interface and page as `example-axum-chat`.
//!
//! ```text
//! cargo run -p example-actix-chat
//! ```
//!
//! Then open the address it prints (http://127.0.0.1:3001 unless `PORT` is
//! set). `RETRY_MS`, `KEEP_ALIVE_MS` and `MAX_LIFETIME_MS` set up the event
//! streams (see `StreamSettings`); `STALL_TIMEOUT_MS` (30 s, `0` for none)
//! is how long a client may leave events unread before its connection is
//! released. With `REDIS_URL` set (and the `redis`
//! feature), messages are kept in Redis, shared by every instance on it (see
//! `example-axum-chat`'s README). Ctrl-C (or SIGTERM) stops accepting connections, then
//! closes the hub: every open event stream receives a last event (`bye`) and
//! ends, and the server stops once they have.

// A server prints where it listens and why it stops: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> ExitCode {
    example_chat_common::observe::init_logs();
    let port = match example_chat_common::port(3001) {
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
    let hub = chat.hub().clone();
    let server = HttpServer::new(move || {
        App::new()
            .configure(example_actix_chat::routes_with(chat.clone(), settings))
            .configure(example_actix_chat::metrics_route(metrics.clone()))
    })
    // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
    // hold one back until the client's delayed ACK (sse-load measured about
    // one event in a hundred arriving 18 ms late). actix-web leaves it off.
    .tcp_nodelay(true)
    // A client that sends its headers a byte at a time is cut off (bodies
    // are bounded by the chat).
    .client_request_timeout(example_chat_common::HEADER_READ_TIMEOUT)
    // A client that stops reading has its connection released.
    .on_connect(sse_actix::stall_timeout(stall_timeout))
    .disable_signals()
    // Streams still open after the hub's grace period (a client that stopped
    // reading) are not waited for much longer.
    .shutdown_timeout(example_chat_common::SHUTDOWN_GRACE.as_secs() + 2)
    .bind(("127.0.0.1", port));
    let server = match server {
        Ok(server) => server.run(),
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("SSE chat (actix-web) on http://127.0.0.1:{port}, messages {backend}");
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        example_chat_common::stop_signal().await;
        println!("shutting down");
        // Stop accepting first (acknowledged by the accept loop), so that
        // reconnecting clients go elsewhere instead of reaching a closed hub.
        handle.pause().await;
        // The graceful stop (its command is sent by this call) runs while
        // the hub closes: it closes the listener and the idle keep-alive
        // connections (a page that came back on one would reach the closed
        // hub), and waits for the streams, which end after the final event.
        let stopped = actix_web::rt::spawn(handle.stop(true));
        example_chat_common::close_hub(&hub).await;
        let _ = stopped.await;
    });
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}
