//! A plain hyper server serving a hub topic with sse-tower, no framework.
//!
//! ```text
//! cargo run -p example-hyper-tower
//! curl -N http://127.0.0.1:3003/events
//! ```
//!
//! A tick is published every second; reconnect with
//! `curl -N -H 'Last-Event-ID: <an id you saw>' http://127.0.0.1:3003/events`
//! to get the ticks you missed.

// A server prints where it listens: printing is its job here.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

#[tokio::main]
async fn main() -> ExitCode {
    // The libraries' logs on stderr, at `info` unless `RUST_LOG` says otherwise.
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    logs.with_writer(std::io::stderr).init();
    let address = match example_hyper_tower::address() {
        Ok(address) => address,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("ticks (hyper + sse-tower) on http://{address}/events");
    let hub = sse_engine::hub::Hub::new();
    tokio::spawn(example_hyper_tower::tick(
        hub.clone(),
        Duration::from_secs(1),
    ));
    example_hyper_tower::serve(listener, hub).await;
    ExitCode::SUCCESS
}
