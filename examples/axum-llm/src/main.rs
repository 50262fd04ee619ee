//! An LLM streaming server: OpenAI's and Anthropic's streaming APIs over
//! Server-Sent Events, answered by a demo model or by a real upstream API.
//!
//! ```text
//! cargo run -p example-axum-llm
//! UPSTREAM_URL=https://api.openai.com/v1 UPSTREAM_API_KEY=sk-... cargo run -p example-axum-llm
//! ```
//!
//! Then open the address it prints (http://127.0.0.1:3002 unless `PORT` is
//! set), or point an OpenAI or Anthropic SDK at it (`base_url`). Ctrl-C
//! shuts it down once the answers being streamed are complete.

// A server prints where it listens and why it stops: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::serve::ListenerExt;
use example_axum_llm::{Config, Llm};

#[tokio::main]
async fn main() -> ExitCode {
    // The libraries' logs on stderr, at `info` unless `RUST_LOG` says otherwise.
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    logs.with_writer(std::io::stderr).init();
    let setup = Config::from_env().and_then(|config| Ok((config.port, Llm::from_config(&config)?)));
    let (port, llm) = match setup {
        Ok(setup) => setup,
        Err(message) => {
            eprintln!("{message}");
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
    // Events are small writes: without TCP_NODELAY, Nagle's algorithm can
    // hold one back until the client's delayed ACK (sse-load measured about
    // one event in a hundred arriving 18 ms late).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!(
        "LLM streaming on http://{address}, answering from {}",
        llm.describe()
    );
    println!("  OpenAI:    POST http://{address}/v1/chat/completions");
    println!("  Anthropic: POST http://{address}/v1/messages");

    let stopping = async {
        let _ = tokio::signal::ctrl_c().await;
        println!("shutting down");
    };
    if let Err(error) = sse_axum::serve(listener, example_axum_llm::app(llm))
        .with_graceful_shutdown(stopping)
        .await
    {
        eprintln!("server error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
