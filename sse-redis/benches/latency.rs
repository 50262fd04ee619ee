//! Publish→deliver latency and publish throughput through Redis, against the
//! in-memory hub, on a `redis-server` started for it; the two hubs
//! interleaved in rounds (`sse_bench::rounds`).
//!
//! ```text
//! cargo bench -p sse-redis --bench latency [-- WORKLOAD...]
//! ```
//!
//! Latency: one subscriber; in each round, a batch of events published at a
//! steady rate through each hub, each carrying the time it was published;
//! measured when the subscription yields it. The rounds compare the
//! batches' medians; the percentiles are over every event of every round.
//! Throughput: events published back to back by one task, then by 8 at once.
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_bench::rounds::{Config, Contender, Workload};
use sse_engine::Event;
use sse_engine::decode::Decoder;
use sse_engine::hub::Hub;
use tokio::runtime::Runtime;

struct Sizes {
    /// Events per hub in each round.
    latency_events: usize,
    rate_per_second: u64,
    /// Events published in one run of a throughput workload.
    throughput_events: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// One batch: `events` published at the rate to one subscriber; their
/// latencies, sorted.
async fn latency(hub: &Hub, events: usize, rate_per_second: u64) -> Vec<Duration> {
    let base = Instant::now();
    let mut subscription = hub.subscribe(&["latency"], None).expect("subscribes");
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
            if latencies.len() >= events {
                break;
            }
        }
        latencies
    });
    let mut ticker = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate_per_second));
    for _ in 0..events {
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
    assert_eq!(latencies.len(), events, "no event lost");
    latencies.sort();
    latencies
}

/// Publishes `events` back to back from `tasks` tasks.
async fn throughput(hub: &Hub, events: usize, tasks: usize) -> u64 {
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
    (events / tasks * tasks) as u64
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

/// The latency rounds: each round's median compared within the round, then
/// the percentiles of every event.
fn latency_rounds(config: &Config, rt: &Runtime, hubs: &[(&str, Hub)], sizes: &Sizes) {
    let name = "publish→deliver latency, one subscriber";
    if !config.selects(name) {
        return;
    }
    let all: Vec<RefCell<Vec<Duration>>> = hubs.iter().map(|_| RefCell::default()).collect();
    let mut workload = Workload::new(
        format!(
            "{name}, {} events per hub per round at {}/s",
            sizes.latency_events, sizes.rate_per_second
        ),
        "event",
    );
    for ((backend, hub), all) in hubs.iter().zip(&all) {
        workload = workload.contender(Contender::self_timed(format!("{backend}, p50"), || {
            let batch = rt.block_on(latency(hub, sizes.latency_events, sizes.rate_per_second));
            let median = percentile(&batch, 0.5);
            all.borrow_mut().extend(batch);
            median
        }));
    }
    println!("{}", workload.run(config));
    println!("every event of every round:\n");
    println!("| hub | events | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |");
    for ((backend, _), all) in hubs.iter().zip(all) {
        let mut all = all.into_inner();
        all.sort();
        let micros = |latency: Duration| latency.as_secs_f64() * 1e6;
        println!(
            "| {backend} | {} | {:.0} µs | {:.0} µs | {:.0} µs |",
            all.len(),
            micros(percentile(&all, 0.50)),
            micros(percentile(&all, 0.99)),
            all.last().copied().map_or(0.0, micros),
        );
    }
    println!();
}

fn main() {
    let config = Config::from_args();
    let sizes = if config.is_full() {
        Sizes {
            latency_events: 250,
            rate_per_second: 1_000,
            throughput_events: 2_000,
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "redis-server with appendonly {}\n",
        rt.block_on(appendonly(&redis))
    );
    let hubs = [
        ("in-memory", Hub::new()),
        ("Redis", rt.block_on(redis.hub("bench:"))),
    ];
    latency_rounds(&config, &rt, &hubs, &sizes);
    for tasks in [1, 8] {
        let name = if tasks == 1 {
            "publish 64 B events back to back, 1 task".to_owned()
        } else {
            format!("publish 64 B events back to back, {tasks} tasks at once")
        };
        if !config.selects(&name) {
            continue;
        }
        let events = sizes.throughput_events;
        let mut workload = Workload::new(name, "event");
        for (backend, hub) in &hubs {
            workload = workload.contender(Contender::new(*backend, events as u64, || {
                rt.block_on(throughput(hub, events, tasks))
            }));
        }
        println!("{}", workload.run(&config));
    }
}
