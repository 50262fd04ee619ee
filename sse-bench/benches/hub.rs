//! The hub: fan-out of one event to many subscribers, against the usual axum
//! pattern (`tokio::sync::broadcast`, each subscriber building its own
//! `axum::response::sse::Event` for every message), interleaved in rounds
//! (`sse_bench::rounds`); the cost per subscriber at 1,000 and 10,000
//! subscribers, compared within each round; publishing with subscribers
//! attached; and the heap held per idle subscriber.
//!
//! ```text
//! cargo bench -p sse-bench --bench hub [-- WORKLOAD...]
//! cargo bench -p sse-bench --bench hub --features metrics   # metrics recorded
//! ```
//!
//! Every subscriber is a response body, polled by hand with a no-op waker
//! the way a server polls it after a wake-up: until it has nothing ready
//! (hyper's write loop polls a body until it is pending, so each library
//! pays for the poll that finds nothing more, as in a server); "delivered"
//! means its body yielded the frame holding the event. The subscribers of every size and
//! both libraries are built before the first round, the peer's first (on
//! the freshest heap), and live side by side while the rounds run.
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::pin::Pin;

use bytes::Bytes;
use http_body::Body;
use sse_bench::fan_out::{AxumBroadcast, poll_until_pending};
use sse_bench::rounds::{Clock, Config, Contender, Workload};
use sse_engine::Event;
use sse_engine::hub::Hub;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type OurBody = Pin<Box<dyn Body<Data = Bytes, Error = Infallible> + Send>>;

fn payload() -> String {
    format!("{{\"price\":{}}}", "1".repeat(1024 - 11))
}

/// Polls every body until it is pending, after `data` was sent to all;
/// the bytes they yielded, each checked to hold at least the event.
fn deliver<B: Body<Data = Bytes> + ?Sized>(bodies: &mut [Pin<Box<B>>], data: &str) -> u64 {
    let delivered: usize = bodies
        .iter_mut()
        .map(|body| poll_until_pending(body.as_mut()))
        .sum();
    assert!(
        delivered >= bodies.len() * data.len(),
        "every subscriber had the event"
    );
    delivered as u64
}

struct Ours {
    hub: Hub,
    bodies: Vec<OurBody>,
}

impl Ours {
    fn new(subscribers: usize) -> Self {
        let hub = Hub::new();
        let mut bodies: Vec<OurBody> = (0..subscribers)
            .map(|_| {
                Box::pin(
                    hub.subscribe(&["prices"], None)
                        .expect("subscribe")
                        .into_body(),
                ) as OurBody
            })
            .collect();
        for body in &mut bodies {
            poll_until_pending(body.as_mut());
        }
        Self { hub, bodies }
    }

    fn publish(&self, rt: &tokio::runtime::Runtime, data: &str) {
        rt.block_on(
            self.hub
                .publish("prices", Event::new().data(data.to_owned())),
        )
        .expect("publish");
    }

    /// Publishes `data` and delivers it to every body; the bytes delivered.
    fn fan_out(&mut self, rt: &tokio::runtime::Runtime, data: &str) -> u64 {
        self.publish(rt, data);
        deliver(&mut self.bodies, data)
    }
}

fn allocations() -> u64 {
    GLOBAL.stats().allocations as u64
}

/// Fan-out of one event at each size, ours against the peer; then the cost
/// per subscriber at the largest size against the smallest, for each.
fn fan_out(config: &Config, rt: &tokio::runtime::Runtime, data: &str) {
    let sizes: [usize; 2] = if config.is_full() {
        [1_000, 10_000]
    } else {
        [10, 100]
    };
    // The peer first, at every size, before anything of ours is built: built
    // in a heap that ours has just freed, its subscribers and per-message
    // strings ran about a third slower, which would flatter the ratio
    // (BENCHMARKS.md).
    let mut peers: Vec<AxumBroadcast> = sizes.iter().map(|&n| AxumBroadcast::new(n)).collect();
    let mut ours: Vec<Ours> = sizes.iter().map(|&n| Ours::new(n)).collect();
    for ((mine, peer), &n) in ours.iter_mut().zip(&mut peers).zip(&sizes) {
        let name = format!("fan-out of one 1 KiB event, {n} subscribers");
        if !config.selects(&name) {
            continue;
        }
        let report = Workload::new(name, "delivery")
            .output("bytes")
            .contender(Contender::new("sse-engine hub", n as u64, || {
                mine.fan_out(rt, data)
            }))
            .contender(Contender::new("axum + broadcast", n as u64, || {
                deliver(peer.send(data.to_owned()), data)
            }))
            .run(config);
        println!("{report}");
    }
    let [small, large] = sizes;
    let name = format!("fan-out cost per subscriber, {large} against {small}");
    if config.selects(&name) {
        let (ours_small, ours_large) = ours.split_at_mut(1);
        let report = Workload::new(format!("{name}, sse-engine hub"), "delivery")
            .contender(Contender::new("sse-engine hub", small as u64, || {
                ours_small[0].fan_out(rt, data)
            }))
            .contender(Contender::new("sse-engine hub", large as u64, || {
                ours_large[0].fan_out(rt, data)
            }))
            .run(config);
        println!("{report}");
        let (peer_small, peer_large) = peers.split_at_mut(1);
        let report = Workload::new(format!("{name}, axum + broadcast"), "delivery")
            .contender(Contender::new("axum + broadcast", small as u64, || {
                deliver(peer_small[0].send(data.to_owned()), data)
            }))
            .contender(Contender::new("axum + broadcast", large as u64, || {
                deliver(peer_large[0].send(data.to_owned()), data)
            }))
            .run(config);
        println!("{report}");
    }
}

/// Publishing one event with 0, 1,000 and 10,000 idle subscribers attached
/// (polled once, so their wakers are registered, and never again).
fn publish(config: &Config, rt: &tokio::runtime::Runtime, data: &str) {
    let name = "publish one 1 KiB event, idle subscribers attached";
    if !config.selects(name) {
        return;
    }
    let attached: [usize; 3] = if config.is_full() {
        [0, 1_000, 10_000]
    } else {
        [0, 10, 100]
    };
    let hubs: Vec<Ours> = attached.iter().map(|&n| Ours::new(n)).collect();
    let mut workload = Workload::new(name, "publish");
    for (hub, n) in hubs.iter().zip(attached) {
        workload = workload.contender(Contender::new(format!("{n} attached"), 1, move || {
            hub.publish(rt, data);
            1
        }));
    }
    println!("{}", workload.run(config));
}

/// Heap bytes still held per subscriber after each was made and polled once.
fn memory_report(config: &Config) {
    if !config.selects("memory") {
        return;
    }
    let rt = sse_bench::bench_runtime();
    let _guard = rt.enter();
    let n = if config.is_full() { 10_000 } else { 100 };
    println!("### heap held per idle subscriber (hub and body), {n} subscribers\n");
    println!("| implementation | bytes per idle subscriber |\n| --- | ---: |");
    let region = Region::new(GLOBAL);
    let ours = Ours::new(n);
    let stats = region.change();
    let held = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64;
    println!("| sse-engine hub | {:.0} |", held / n as f64);
    drop(ours);

    let region = Region::new(GLOBAL);
    let peer = AxumBroadcast::new(n);
    let stats = region.change();
    let held = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64;
    println!("| axum + broadcast | {:.0} |", held / n as f64);
    drop(peer);
    println!();
}

fn main() {
    // Recorded as a server with `GET /metrics` records them (installed
    // before any hub is built, as the metrics module asks).
    #[cfg(feature = "metrics")]
    let _metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("no other recorder is installed");
    let config = Config::from_args()
        .clock(Clock::ThreadCpu)
        .count_allocations(allocations);
    let rt = sse_bench::bench_runtime();
    let _guard = rt.enter();
    let data = payload();
    fan_out(&config, &rt, &data);
    publish(&config, &rt, &data);
    memory_report(&config);
}
