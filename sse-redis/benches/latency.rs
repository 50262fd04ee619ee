//! Publish→deliver latency and publish throughput through Redis, against the
//! in-memory hub, in the same run, on a `redis-server` started for it.
//!
//! ```text
//! cargo bench -p sse-redis --bench latency
//! ```
//!
//! Latency: one subscriber; events published at a steady rate, each carrying
//! the time it was published; measured when the subscription yields it.
//! Throughput: events published back to back by one task, then by 8 at once.
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_engine::Event;
use sse_engine::decode::Decoder;
use sse_engine::hub::Hub;

struct Sizes {
    latency_events: usize,
    rate_per_second: u64,
    throughput_events: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn latency(hub: &Hub, sizes: &Sizes) -> Vec<Duration> {
    let base = Instant::now();
    let mut subscription = hub.subscribe(&["latency"], None).expect("subscribes");
    let wanted = sizes.latency_events;
    let receiver = tokio::spawn(async move {
        let mut latencies = Vec::new();
        let mut decoder = Decoder::new();
        while let Some(event) = subscription.next().await {
            let received = base.elapsed();
            decoder.push(event.as_bytes()).expect("decodes");
            while let Some(decoded) = decoder.next_event() {
                let sent: u64 = decoded.data().parse().expect("a time");
                latencies.push(received.saturating_sub(Duration::from_nanos(sent)));
            }
            if latencies.len() >= wanted {
                break;
            }
        }
        latencies
    });
    let mut ticker =
        tokio::time::interval(Duration::from_nanos(1_000_000_000 / sizes.rate_per_second));
    for _ in 0..sizes.latency_events {
        ticker.tick().await;
        let sent = base.elapsed().as_nanos() as u64;
        hub.publish("latency", Event::new().data(sent.to_string()))
            .await
            .expect("published");
    }
    let mut latencies = tokio::time::timeout(Duration::from_secs(60), receiver)
        .await
        .expect("every event arrives")
        .expect("the receiver ran");
    latencies.sort();
    latencies
}

/// Events per second published back to back by `tasks` tasks.
async fn throughput(hub: &Hub, events: usize, tasks: usize) -> f64 {
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let hub = hub.clone();
        let count = events / tasks;
        handles.push(tokio::spawn(async move {
            let data = format!("{{\"task\":{task},\"payload\":\"{}\"}}", "x".repeat(40));
            for _ in 0..count {
                hub.publish("throughput", Event::new().data(data.clone()))
                    .await
                    .expect("published");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("publisher ran");
    }
    (events / tasks * tasks) as f64 / started.elapsed().as_secs_f64()
}

/// The server's `appendonly` setting, as it reports it: the figures are
/// printed with the persistence they were measured with.
async fn appendonly(redis: &common::RedisServer) -> String {
    let reply = redis.command(&["CONFIG", "GET", "appendonly"]).await;
    match &reply {
        redis::Value::Array(pair) => match pair.get(1) {
            Some(redis::Value::BulkString(value)) => String::from_utf8_lossy(value).into_owned(),
            _ => format!("{reply:?}"),
        },
        _ => format!("{reply:?}"),
    }
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let sizes = if full {
        Sizes {
            latency_events: 5_000,
            rate_per_second: 1_000,
            throughput_events: 20_000,
        }
    } else {
        Sizes {
            latency_events: 20,
            rate_per_second: 200,
            throughput_events: 80,
        }
    };
    // Redis as usually run for a cache-like log: in memory, no fsync per
    // write (the tests' server syncs every write, which measures the disk).
    let Some(redis) = common::RedisServer::start_with("the Redis benchmark", false) else {
        return;
    };
    println!(
        "publish→deliver latency, {} events at {}/s, one subscriber; publish throughput, {} events of 64 B; redis-server with appendonly {}",
        sizes.latency_events,
        sizes.rate_per_second,
        sizes.throughput_events,
        appendonly(&redis).await
    );
    println!("| hub | p50 | p99 | max | publish, 1 task | publish, 8 tasks |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for backend in ["in-memory", "Redis"] {
        let hub = match backend {
            "Redis" => redis.hub("bench:").await,
            _ => Hub::new(),
        };
        let latencies = latency(&hub, &sizes).await;
        assert_eq!(latencies.len(), sizes.latency_events, "no event lost");
        let one = throughput(&hub, sizes.throughput_events, 1).await;
        let eight = throughput(&hub, sizes.throughput_events, 8).await;
        println!(
            "| {backend} | {:.0} µs | {:.0} µs | {:.0} µs | {one:.0}/s | {eight:.0}/s |",
            percentile(&latencies, 0.50).as_secs_f64() * 1e6,
            percentile(&latencies, 0.99).as_secs_f64() * 1e6,
            latencies.last().map_or(0.0, |max| max.as_secs_f64() * 1e6),
        );
    }
}
