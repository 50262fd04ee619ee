//! The six scenarios. Each starts a fresh server process for every
//! implementation and step, so that no step inherits another's memory.

pub mod churn;
pub mod fanout;
pub mod fleet;
pub mod idle;
pub mod slow;
pub mod stalled;
pub mod throughput;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Error;
use super::client::{http, runtime};
use super::plan::Plan;
use super::server::Config;

/// The server configuration of a plan.
pub fn server_config(plan: &Plan) -> Config {
    Config {
        keep_alive: plan.keep_alive,
        workers: plan.workers,
        stall_timeout: None,
    }
}

/// Polls the server's subscriber count until `done` accepts it or `timeout`
/// passes; the last count read (`None` when the server does not report one).
///
/// # Errors
///
/// When the server cannot be reached, its count cannot be read, or one
/// request goes unanswered for `timeout`.
pub fn wait_subscribers(
    server: SocketAddr,
    done: impl Fn(u64) -> bool,
    timeout: Duration,
) -> Result<Option<u64>, Error> {
    let runtime = runtime()?;
    let start = Instant::now();
    loop {
        let count = runtime.block_on(within(timeout, "GET /stats", http::subscribers(server)))?;
        match count {
            None => return Ok(None),
            Some(count) if done(count) || start.elapsed() >= timeout => return Ok(Some(count)),
            Some(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// `work`, or an error naming `what` when it takes longer than `limit`: a
/// server that stops answering ends the step instead of the run.
///
/// # Errors
///
/// `work`'s error, or the time limit.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(limit, work)
        .await
        .map_err(|_| format!("{what}: not done within {limit:?}"))?
}
