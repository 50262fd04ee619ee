//! `sse-load`: measures real SSE servers over loopback, each against its
//! peers in the same run. See the workspace's `BENCHMARKS.md`, section
//! "End-to-end load (sse-load)", for what is measured and the results.
//!
//! The driver (`sse-load <scenario>`) starts every server as a child process
//! of the same executable (`sse-load serve --impl <name>`), talks to it over
//! 127.0.0.1 with plain HTTP/1.1 clients on its own threads, reads the
//! server's memory and CPU time from `/proc`, and kills it.
//!
//! - [`wire`]: the interface every server answers and the event data.
//! - [`server`]: our servers (sse-axum, sse-actix, with the hub), the
//!   peers' (axum, actix-web-lab, over `tokio::sync::broadcast`), and raw
//!   hyper as the ceiling.
//! - [`client`]: connections, the lean event reader, the publisher.
//! - [`scenario`]: the five scenarios; [`plan`] their sizes.
//! - [`report`]: the tables and JSON; [`plot`]: the figures.

pub mod child;
pub mod client;
pub mod impls;
pub mod limits;
pub mod plan;
pub mod plot;
pub mod procfs;
pub mod report;
pub mod scenario;
pub mod server;
pub mod stats;
pub mod wire;

/// Any error of the load tool: it is reported, never matched on.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
