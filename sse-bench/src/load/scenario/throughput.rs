//! Scenario 1: events streamed to one HTTP/1.1 client as fast as the server
//! sends them (`GET /flood`).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{server_config, within};
use crate::load::Error;
use crate::load::child::ServerProcess;
use crate::load::client::runtime;
use crate::load::client::subscriber::Subscriber;
use crate::load::impls::Impl;
use crate::load::plan::Plan;

/// One implementation, one event size.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputResult {
    /// The implementation.
    pub implementation: Impl,
    /// Data bytes per event.
    pub size: usize,
    /// Events asked for in each run.
    pub events: u64,
    /// Body bytes received in each run (events and their framing).
    pub bytes: u64,
    /// Seconds of each run, request to last byte.
    pub runs_s: Vec<f64>,
    /// The median run.
    pub seconds: f64,
    /// Events per second in the median run.
    pub events_per_s: f64,
    /// Megabytes (10^6 bytes) of body per second in the median run.
    pub mb_per_s: f64,
    /// Why a run failed or came back short, if one did.
    pub error: Option<String>,
}

/// Runs every workload of the plan against `kind`.
pub fn run(kind: Impl, plan: &Plan) -> Vec<ThroughputResult> {
    plan.throughput
        .workloads
        .iter()
        .map(|&(size, events)| {
            let mut result = ThroughputResult {
                implementation: kind,
                size,
                events,
                bytes: 0,
                runs_s: Vec::new(),
                seconds: 0.0,
                events_per_s: 0.0,
                mb_per_s: 0.0,
                error: None,
            };
            if let Err(error) = measure(kind, plan, &mut result) {
                result.error = Some(error.to_string());
            }
            result
        })
        .collect()
}

fn measure(kind: Impl, plan: &Plan, result: &mut ThroughputResult) -> Result<(), Error> {
    let server = ServerProcess::start(kind, server_config(plan))?;
    let runtime = runtime()?;
    let path = format!("/flood?n={}&size={}", result.events, result.size);
    for _ in 0..plan.throughput.repeats {
        let limit = plan.throughput.time_limit;
        let (events, bytes, elapsed) =
            runtime.block_on(within(limit, "a run", one_run(&server, &path)))?;
        if events != result.events {
            return Err(format!("received {events} of {} events", result.events).into());
        }
        result.bytes = bytes;
        result.runs_s.push(elapsed.as_secs_f64());
    }
    let mut sorted = result.runs_s.clone();
    sorted.sort_by(f64::total_cmp);
    result.seconds = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    if result.seconds > 0.0 {
        result.events_per_s = result.events as f64 / result.seconds;
        result.mb_per_s = result.bytes as f64 / result.seconds / 1e6;
    }
    Ok(())
}

/// One request: events and body bytes received, and how long it took.
async fn one_run(server: &ServerProcess, path: &str) -> Result<(u64, u64, Duration), Error> {
    let start = Instant::now();
    let mut subscriber = Subscriber::open(server.address(), None, path).await?;
    while subscriber.read(|_| {}).await? {}
    Ok((subscriber.events(), subscriber.bytes(), start.elapsed()))
}
