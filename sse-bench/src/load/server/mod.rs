//! The servers under test, each answering the [wire](super::wire)
//! interface on 127.0.0.1. `sse-load serve --impl <name>` runs one.

mod actix_common;
mod actix_peer;
mod axum_common;
mod axum_peer;
mod ours_actix;
mod ours_axum;
mod raw_hyper;

use std::net::SocketAddr;
use std::time::Duration;

use sse_engine::hub::{Hub, LogLimits};

use super::Error;
use super::impls::Impl;
use super::wire::{BACKLOG_EVENTS, MAX_EVENT_BYTES};

/// How a server runs; the same for every implementation.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Keep-alive interval of every event stream.
    pub keep_alive: Duration,
    /// Worker threads (tokio workers, or actix-web workers).
    pub workers: usize,
    /// Ours only: release a client's connection once it has left data
    /// unread this long (see `sse_engine::stall`). The peers have no such
    /// setting.
    pub stall_timeout: Option<Duration>,
}

/// Runs the `kind` server on 127.0.0.1, on a port the system picks, until
/// the process ends; `on_listen` is told the address once it listens.
///
/// Every server sets `TCP_NODELAY` on its connections, as a server that
/// streams events should: without it, a small event written while an
/// earlier one is unacknowledged waits for the client's delayed ACK, and
/// one event in a hundred arrived ~18 ms late in the slow-client scenario,
/// whichever the implementation.
///
/// # Errors
///
/// When the server cannot start or fails.
pub fn serve(kind: Impl, config: Config, on_listen: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    match kind {
        // `sse_axum::serve` only where its stall timeout is measured: the
        // other scenarios' figures were taken on `axum::serve`, as the peer's.
        Impl::OursAxum if config.stall_timeout.is_some() => {
            axum_common::serve_ours(ours_axum::router(config), config, on_listen)
        }
        Impl::OursAxum => axum_common::serve(ours_axum::router(config), config, on_listen),
        Impl::Axum => axum_common::serve(axum_peer::router(config), config, on_listen),
        Impl::OursActix => actix_common::serve(ours_actix::routes(config), config, on_listen),
        Impl::ActixWebLab => actix_common::serve(actix_peer::routes(config), config, on_listen),
        Impl::RawHyper => raw_hyper::serve(config, on_listen),
    }
}

/// The hub of our servers: as many events kept as the peers' broadcast
/// channels hold ([`BACKLOG_EVENTS`]); bytes bounded only loosely, so that
/// the count is the bound for both.
fn hub() -> Hub {
    Hub::builder()
        .log_limits(
            LogLimits::new()
                .max_events(BACKLOG_EVENTS)
                .max_bytes(BACKLOG_EVENTS * (MAX_EVENT_BYTES + 1024))
                .max_event_bytes(MAX_EVENT_BYTES + 1024),
        )
        .build()
}

/// A multi-threaded tokio runtime with `workers` threads.
fn tokio_runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
}

/// The address every server listens on: loopback, any free port.
const LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);
