//! Scenario 2: N clients on `/events`, one publisher at a fixed rate;
//! publish-to-receive latency across all clients, and events lost. Scenario
//! 5 (slow client) runs the same measurement with one client that stops
//! reading.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::fleet::{Fleet, FleetPlan};
use super::{server_config, wait_subscribers};
use crate::load::Error;
use crate::load::child::ServerProcess;
use crate::load::client::publisher::{PublishPlan, Published, publish};
use crate::load::client::spawn_runtime;
use crate::load::impls::Impl;
use crate::load::plan::Plan;
use crate::load::stats::Summary;

/// What one fan-out step is.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Clients that read every event.
    pub clients: usize,
    /// What the publisher sends.
    pub publish: PublishPlan,
    /// How long after the last publish clients may take to receive it.
    pub grace: Duration,
    /// One more client that stops reading.
    pub slow_client: bool,
}

/// What one fan-out step measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FanoutResult {
    /// The implementation.
    pub implementation: Option<Impl>,
    /// Clients that read every event.
    pub clients: usize,
    /// Which round of this step (from 0).
    pub round: usize,
    /// Whether one more client stopped reading.
    pub slow_client: bool,
    /// Events published.
    pub events: u64,
    /// Data bytes per event.
    pub size: usize,
    /// Events per second asked of the publisher.
    pub rate: f64,
    /// Seconds to open every connection.
    pub connect_s: f64,
    /// Publish-to-receive latency, every event at every client.
    pub latency: Summary,
    /// Events that never reached a reading client.
    pub lost: u64,
    /// Events that reached a client twice or out of order.
    pub repeated: u64,
    /// Clients whose stream failed.
    pub client_errors: usize,
    /// Events per second the publisher achieved.
    pub publish_rate: f64,
    /// Time of each `POST /publish`, request to answer.
    pub publish_latency: Summary,
    /// Server CPU time (all threads, user and system) from the first
    /// publish until every client had every event, per event delivered, in
    /// microseconds: the server's own cost, whatever the client's.
    pub server_cpu_us_per_delivery: f64,
    /// Server memory before the clients connected, in bytes.
    pub rss_before: u64,
    /// The most server memory seen while publishing, in bytes.
    pub rss_peak: u64,
    /// Server memory after the last event, in bytes.
    pub rss_after: u64,
    /// Why the step failed, if it did.
    pub error: Option<String>,
}

/// Every fan-out step of the plan against `kind`, once (round `round`).
pub fn run(kind: Impl, plan: &Plan, round: usize) -> Vec<FanoutResult> {
    plan.fanout
        .steps
        .iter()
        .map(|&(clients, events, rate)| {
            let step = Step {
                clients,
                publish: PublishPlan {
                    events,
                    rate,
                    size: plan.fanout.size,
                },
                grace: plan.fanout.grace,
                slow_client: false,
            };
            FanoutResult {
                round,
                ..measure(kind, plan, step)
            }
        })
        .collect()
}

/// Runs one step on a fresh server.
pub fn measure(kind: Impl, plan: &Plan, step: Step) -> FanoutResult {
    let mut result = FanoutResult {
        implementation: Some(kind),
        clients: step.clients,
        slow_client: step.slow_client,
        events: step.publish.events,
        size: step.publish.size,
        rate: step.publish.rate,
        ..FanoutResult::default()
    };
    if let Err(error) = measure_into(kind, plan, step, &mut result) {
        result.error = Some(error.to_string());
    }
    result
}

fn measure_into(
    kind: Impl,
    plan: &Plan,
    step: Step,
    result: &mut FanoutResult,
) -> Result<(), Error> {
    let server = ServerProcess::start(kind, server_config(plan))?;
    result.rss_before = server.rss()?;
    let fleet = Fleet::start(FleetPlan {
        server: server.address(),
        path: "/events",
        clients: step.clients,
        sources: Plan::sources(step.clients),
        concurrency: plan.connect_concurrency,
        expected: Some(step.publish.events),
        slow_client: step.slow_client,
    })?;
    result.connect_s = fleet.wait_connected(plan.connect_timeout)?.as_secs_f64();
    // Every stream must be subscribed before the first publish.
    let want = (step.clients + usize::from(step.slow_client)) as u64;
    if let Some(count) = wait_subscribers(
        server.address(),
        |count| count >= want,
        Duration::from_secs(30),
    )? && count < want
    {
        return Err(format!("the server counts {count} of {want} subscribers").into());
    }

    let address = server.address();
    let publish_plan = step.publish;
    let cpu_before = server.cpu_seconds()?;
    let publisher = spawn_runtime("sse-load publisher", move || publish(address, publish_plan))?;
    result.rss_peak = result.rss_before;
    let limit = Instant::now() + publish_limit(step.publish);
    while !publisher.is_finished() && Instant::now() < limit {
        result.rss_peak = result.rss_peak.max(server.rss()?);
        std::thread::sleep(Duration::from_millis(50));
    }
    if !publisher.is_finished() {
        return Err(format!(
            "publishing took longer than {:?}",
            publish_limit(step.publish)
        )
        .into());
    }
    let published: Published = publisher.join().map_err(|_| "the publisher panicked")???;
    let deliveries = fleet.finish(step.grace)?;
    let cpu = server.cpu_seconds()? - cpu_before;
    result.rss_after = server.rss()?;
    result.rss_peak = result.rss_peak.max(result.rss_after);

    result.publish_rate = published.rate();
    result.publish_latency = Summary::of(&mut published.post_ns.clone());
    let mut latencies = Vec::with_capacity(deliveries.iter().map(|d| d.latencies_ns.len()).sum());
    for delivery in deliveries {
        latencies.extend_from_slice(&delivery.latencies_ns);
        result.lost += delivery.lost;
        result.repeated += delivery.repeated;
        result.client_errors += usize::from(delivery.error.is_some());
    }
    result.server_cpu_us_per_delivery = 1e6 * cpu / (latencies.len().max(1) as f64);
    result.latency = Summary::of(&mut latencies);
    Ok(())
}

/// The longest publishing may take: three times the plan's duration, plus
/// ten seconds.
fn publish_limit(plan: PublishPlan) -> Duration {
    Duration::from_secs_f64(3.0 * plan.events as f64 / plan.rate.max(1e-3) + 10.0)
}

/// Of the rounds of one step of one implementation, the one with the median
/// p99 (the lower middle of an even number).
pub fn median_round<'a>(
    runs: impl IntoIterator<Item = &'a FanoutResult>,
) -> Option<&'a FanoutResult> {
    let mut runs: Vec<&FanoutResult> = runs.into_iter().filter(|run| run.error.is_none()).collect();
    runs.sort_by(|a, b| a.latency.p99_us.total_cmp(&b.latency.p99_us));
    runs.get(runs.len().saturating_sub(1) / 2).copied()
}
