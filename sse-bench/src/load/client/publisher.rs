//! The publisher: `POST /publish` at a fixed rate over one keep-alive
//! connection, each event stamped with its sequence number and send time.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::{Instant, MissedTickBehavior};

use super::http::Connection;
use crate::load::Error;
use crate::load::wire::{event_data, now_ns};

/// What to publish.
#[derive(Debug, Clone, Copy)]
pub struct PublishPlan {
    /// Events, numbered from 0.
    pub events: u64,
    /// Events per second.
    pub rate: f64,
    /// Bytes of data in each.
    pub size: usize,
}

/// How publishing went.
#[derive(Debug, Default)]
pub struct Published {
    /// Events the server accepted.
    pub sent: u64,
    /// From the first publish to the last answer.
    pub elapsed: Duration,
    /// The time each `POST` took, request to answer, in nanoseconds.
    pub post_ns: Vec<u64>,
}

impl Published {
    /// Events per second achieved.
    pub fn rate(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Publishes `plan.events` events to `server`, one every `1 / plan.rate`
/// seconds (catching up after a late one, so the rate is the plan's when
/// the server keeps up).
///
/// # Errors
///
/// When the connection fails or the server refuses an event.
pub async fn publish(server: SocketAddr, plan: PublishPlan) -> Result<Published, Error> {
    let mut connection = Connection::open(server, None).await?;
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.rate.max(1e-3)));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut published = Published::default();
    let start = Instant::now();
    for seq in 0..plan.events {
        ticks.tick().await;
        let sent = Instant::now();
        let data = event_data(seq, now_ns(), plan.size);
        connection.post("/publish", Bytes::from(data)).await?;
        published.post_ns.push(nanos(sent.elapsed()));
        published.sent += 1;
    }
    published.elapsed = start.elapsed();
    Ok(published)
}

/// A duration in whole nanoseconds (saturating).
pub fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
