//! Scenario 3: idle connections with keep-alive; server memory per
//! connection and CPU while idle. Each step is measured on `/events` and on
//! `/hold` (a stream that never sends, without SSE), so that what SSE adds
//! can be told from what the HTTP server holds for any open stream.

use std::time::Duration;

use serde::Serialize;

use super::fleet::{Fleet, FleetPlan};
use super::{server_config, wait_subscribers, within};
use crate::load::Error;
use crate::load::child::ServerProcess;
use crate::load::client::runtime;
use crate::load::client::subscriber::Subscriber;
use crate::load::impls::Impl;
use crate::load::limits::{SPARE_FILES, raise_open_files};
use crate::load::plan::Plan;

/// Connections opened and closed before the baseline is read, so that
/// memory a server allocates once, on its first connections, is in it.
const WARM_UP: usize = 32;

/// One implementation, one path, one number of connections.
#[derive(Debug, Clone, Serialize)]
pub struct IdleResult {
    /// The implementation.
    pub implementation: Impl,
    /// `/events` or `/hold`.
    pub path: &'static str,
    /// Connections held.
    pub connections: usize,
    /// Server memory before they connected, in bytes.
    pub rss_before: u64,
    /// Server memory with all of them connected and idle, in bytes.
    pub rss_idle: u64,
    /// `(rss_idle - rss_before) / connections`.
    pub bytes_per_connection: f64,
    /// Server CPU while they idled, in percent of one core.
    pub cpu_percent: f64,
    /// Seconds over which CPU was measured.
    pub window_s: f64,
    /// Why the step was not run (the machine cannot hold that many).
    pub skipped: Option<String>,
    /// Why the step failed, if it did.
    pub error: Option<String>,
}

/// Every idle step of the plan against `kind`, on `/events` and `/hold`.
pub fn run(kind: Impl, plan: &Plan) -> Vec<IdleResult> {
    let mut results = Vec::new();
    for &connections in &plan.idle.connections {
        for path in ["/events", "/hold"] {
            if path == "/events" && !kind.publishes() {
                continue;
            }
            let mut result = IdleResult {
                implementation: kind,
                path,
                connections,
                rss_before: 0,
                rss_idle: 0,
                bytes_per_connection: 0.0,
                cpu_percent: 0.0,
                window_s: plan.idle.window.as_secs_f64(),
                skipped: None,
                error: None,
            };
            // Both processes need one descriptor per connection.
            if let Err(reason) = raise_open_files(connections as u64 + SPARE_FILES) {
                result.skipped = Some(reason);
            } else if let Err(error) = measure(kind, plan, &mut result) {
                result.error = Some(error.to_string());
            }
            results.push(result);
        }
    }
    results
}

fn measure(kind: Impl, plan: &Plan, result: &mut IdleResult) -> Result<(), Error> {
    let server = ServerProcess::start(kind, server_config(plan))?;
    warm_up(&server, result.path, plan.connect_timeout)?;
    if result.path == "/events" {
        wait_subscribers(
            server.address(),
            |count| count == 0,
            3 * plan.keep_alive + Duration::from_secs(5),
        )?;
    }
    std::thread::sleep(plan.idle.settle);
    result.rss_before = server.rss()?;
    let fleet = Fleet::start(FleetPlan {
        server: server.address(),
        path: result.path,
        clients: result.connections,
        sources: Plan::sources(result.connections),
        concurrency: plan.connect_concurrency,
        expected: None,
        slow_client: false,
    })?;
    fleet.wait_connected(plan.connect_timeout)?;
    std::thread::sleep(plan.idle.settle);
    result.rss_idle = server.rss()?;
    let cpu_before = server.cpu_seconds()?;
    std::thread::sleep(plan.idle.window);
    let cpu = server.cpu_seconds()? - cpu_before;
    fleet.finish(Duration::ZERO)?;
    result.bytes_per_connection =
        (result.rss_idle as f64 - result.rss_before as f64) / result.connections as f64;
    result.cpu_percent = 100.0 * cpu / plan.idle.window.as_secs_f64();
    Ok(())
}

/// Opens and closes [`WARM_UP`] connections, within `limit`.
fn warm_up(server: &ServerProcess, path: &str, limit: Duration) -> Result<(), Error> {
    runtime()?.block_on(within(limit, "warm-up", async {
        let mut open = Vec::with_capacity(WARM_UP);
        for _ in 0..WARM_UP {
            open.push(Subscriber::open(server.address(), None, path).await?);
        }
        Ok(())
    }))
}
