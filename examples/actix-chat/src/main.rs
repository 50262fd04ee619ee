//! A chat over Server-Sent Events: actix-web, with the sse hub. The same
//! interface and page as `example-axum-chat`.
//!
//! ```text
//! cargo run -p example-actix-chat
//! ```
//!
//! Then open the address it prints (http://127.0.0.1:3001 unless `PORT` is
//! set). Ctrl-C closes the hub, so open event streams end with a last event
//! and the server stops at once instead of waiting for them.

// A server prints where it listens and why it stops: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use actix_web::{App, HttpServer};
use sse_core::Event;

#[actix_web::main]
async fn main() -> ExitCode {
    let port = match example_chat_common::port(3001) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let hub = example_chat_common::hub();
    let routes_hub = hub.clone();
    let server = HttpServer::new(move || {
        App::new().configure(example_actix_chat::routes(routes_hub.clone()))
    })
    // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
    // hold one back until the client's delayed ACK (sse-load measured about
    // one event in a hundred arriving 18 ms late). actix-web leaves it off.
    .tcp_nodelay(true)
    .disable_signals()
    .bind(("127.0.0.1", port));
    let server = match server {
        Ok(server) => server.run(),
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("SSE chat (actix-web) on http://127.0.0.1:{port}");
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down");
        hub.close(Some(Event::new().event("bye").data("server restarting")));
        handle.stop(true).await;
    });
    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}
