//! An existing axum app whose hand-written SSE route gains the SSE headers and
//! keep-alive from one added layer.
//!
//! ```text
//! cargo run -p example-axum-existing
//! curl -N -i http://127.0.0.1:3004/progress
//! ```
//!
//! The response carries `Cache-Control: no-cache` and `X-Accel-Buffering: no`
//! that the handler never set, and once the job goes quiet, a keep-alive
//! comment every 15 seconds.

// A server prints where it listens: printing is its job here.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::serve::ListenerExt;

#[tokio::main]
async fn main() -> ExitCode {
    // The libraries' logs on stderr, at `info` unless `RUST_LOG` says otherwise.
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    logs.with_writer(std::io::stderr).init();
    let port = match std::env::var("PORT").map(|value| value.parse::<u16>()) {
        Err(_) => 3004,
        Ok(Ok(port)) => port,
        Ok(Err(_)) => {
            eprintln!("PORT must be a port number");
            return ExitCode::FAILURE;
        }
    };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("existing app on http://{address} (stream at /progress)");
    let app = example_axum_existing::app(Duration::from_secs(15));
    // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
    // hold one back until the client's delayed ACK (sse-load measured about
    // one event in a hundred arriving 18 ms late).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(error) = sse_axum::serve(listener, app).await {
        eprintln!("server error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
