//! Scenario 4: connections to `/events` opened and closed in a loop; the
//! server's subscriber count and memory before and after each round.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;

use super::{server_config, wait_subscribers, within};
use crate::load::Error;
use crate::load::child::ServerProcess;
use crate::load::client::runtime;
use crate::load::client::subscriber::Subscriber;
use crate::load::impls::Impl;
use crate::load::plan::Plan;

/// One round of churn.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnRound {
    /// Seconds to open and close every connection.
    pub seconds: f64,
    /// Connections that failed.
    pub failed: usize,
    /// Subscribers the server counted once the round settled.
    pub subscribers_after: Option<u64>,
    /// Seconds until the count was back to where it started.
    pub settle_s: f64,
    /// Server memory after the round settled, in bytes.
    pub rss_after: u64,
}

/// One implementation's churn.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnResult {
    /// The implementation.
    pub implementation: Impl,
    /// Connections per round.
    pub connections: usize,
    /// Subscribers before the first round.
    pub subscribers_before: Option<u64>,
    /// Server memory before the first round, in bytes.
    pub rss_before: u64,
    /// Each round.
    pub rounds: Vec<ChurnRound>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// The churn of the plan against `kind`.
pub fn run(kind: Impl, plan: &Plan) -> ChurnResult {
    let mut result = ChurnResult {
        implementation: kind,
        connections: plan.churn.connections,
        subscribers_before: None,
        rss_before: 0,
        rounds: Vec::new(),
        error: None,
    };
    if let Err(error) = measure(kind, plan, &mut result) {
        result.error = Some(error.to_string());
    }
    result
}

fn measure(kind: Impl, plan: &Plan, result: &mut ChurnResult) -> Result<(), Error> {
    let server = ServerProcess::start(kind, server_config(plan))?;
    let runtime = runtime()?;
    // Closing a connection leaves its port in TIME_WAIT for a minute: spread
    // the rounds over several fresh source addresses.
    let sources = Plan::sources(4 * 25_000);
    // A departed client's stream may live until its next keep-alive write.
    let settle_limit = 3 * plan.keep_alive + Duration::from_secs(5);
    let limit = plan.connect_timeout;
    runtime.block_on(within(
        limit,
        "warm-up",
        round(server.address(), 32, 8, &sources),
    ))?;
    result.subscribers_before =
        wait_subscribers(server.address(), |count| count == 0, settle_limit)?;
    std::thread::sleep(plan.idle.settle);
    result.rss_before = server.rss()?;
    let baseline = result.subscribers_before.unwrap_or(0);
    for _ in 0..plan.churn.rounds {
        let start = Instant::now();
        let failed = runtime.block_on(within(
            limit,
            "a round",
            round(
                server.address(),
                plan.churn.connections,
                plan.churn.concurrency,
                &sources,
            ),
        ))?;
        let seconds = start.elapsed().as_secs_f64();
        let settling = Instant::now();
        let subscribers_after =
            wait_subscribers(server.address(), |count| count <= baseline, settle_limit)?;
        let settle_s = settling.elapsed().as_secs_f64();
        std::thread::sleep(plan.idle.settle);
        result.rounds.push(ChurnRound {
            seconds,
            failed,
            subscribers_after,
            settle_s,
            rss_after: server.rss()?,
        });
    }
    Ok(())
}

/// Opens `connections` streams, `concurrency` at a time, each closed as soon
/// as its response head arrives; how many failed.
async fn round(
    server: SocketAddr,
    connections: usize,
    concurrency: usize,
    sources: &[IpAddr],
) -> Result<usize, Error> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(connections);
    for index in 0..connections {
        let permit = permits.clone().acquire_owned().await?;
        let source = sources.get(index % sources.len().max(1)).copied();
        tasks.push(tokio::spawn(async move {
            let opened = Subscriber::open(server, source, "/events").await;
            drop(permit);
            opened.is_err()
        }));
    }
    let mut failed = 0;
    for task in tasks {
        failed += usize::from(task.await.unwrap_or(true));
    }
    Ok(failed)
}
