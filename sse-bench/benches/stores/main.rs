//! The shared stores side by side, in one run: publish→deliver latency and
//! publish throughput of the in-memory hub, sse-redis and sse-nats (a
//! single node, R1, and a three-node cluster, R3), and the latency across
//! instances: two hubs on one store, a publish on the first delivered by
//! the second, as behind a load balancer. Interleaved in rounds
//! (`sse_bench::rounds`), timed by the wall clock (the work runs on several
//! threads and in the servers).
//!
//! ```text
//! cargo bench -p sse-bench --bench stores [-- WORKLOAD...]
//! ```
//!
//! The bench starts its own `redis-server` (in memory, no fsync) and
//! `nats-server`s (JetStream on files) on free loopback ports, with the
//! stores' test harnesses. A server that is not on PATH leaves its store
//! out, with a message, unless `SSE_REQUIRE_REDIS=1` or
//! `SSE_REQUIRE_NATS=1` makes that a failure.
//!
//! Latency: in each round, every contender publishes a batch of events at a
//! steady pace, each publish awaited before the next, to one subscriber;
//! an event's latency runs from the start of its publish to its delivery.
//! The rounds compare the batches' medians; the percentiles are over every
//! event of every round. Throughput: 64-byte events published back to back,
//! each awaiting its acknowledgement, by one task, then by 8 at once.
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

#[path = "../../../sse-nats/tests/common/mod.rs"]
mod nats;
#[path = "../../../sse-redis/tests/common/mod.rs"]
mod redis_server;

mod measure;

use std::cell::RefCell;
use std::process::Command;
use std::time::Duration;

use sse_bench::rounds::{Config, Contender, Workload};
use sse_engine::hub::Hub;
use tokio::runtime::Runtime;

/// A hub on a store, and for a shared store a second instance on it.
struct Store {
    name: &'static str,
    hub: Hub,
    other_instance: Option<Hub>,
}

struct Sizes {
    /// Events each latency contender publishes per round.
    latency_events: usize,
    period: Duration,
    /// Events published in one run of a throughput workload.
    throughput_events: usize,
}

/// The servers the stores run on, kept until the bench ends.
struct Servers {
    _redis: Option<redis_server::RedisServer>,
    _nats: Option<nats::NatsServer>,
    _cluster: Option<nats::Cluster>,
}

/// Every store whose server can run here, each with its second instance.
fn stores(rt: &Runtime) -> (Vec<Store>, Servers) {
    // In memory, no fsync per write, as Redis usually runs for a log like
    // this one (the tests' server syncs every write, which measures the disk).
    let redis = redis_server::RedisServer::start_with("the stores benchmark (Redis)", false);
    let single = nats::NatsServer::start("the stores benchmark (NATS R1)");
    let cluster = nats::Cluster::start("the stores benchmark (NATS R3)");
    let shared = [
        (
            "Redis",
            redis
                .as_ref()
                .map(|server| rt.block_on(two(|| server.hub("bench:")))),
        ),
        (
            "NATS R1",
            single
                .as_ref()
                .map(|server| rt.block_on(two(|| server.hub("BENCH")))),
        ),
        (
            "NATS R3",
            cluster
                .as_ref()
                .map(|nodes| rt.block_on(two(|| nodes.hub("BENCH3")))),
        ),
    ];
    let mut stores = vec![Store {
        name: "in-memory",
        hub: Hub::new(),
        other_instance: None,
    }];
    for (name, hubs) in shared {
        if let Some((hub, other)) = hubs {
            stores.push(Store {
                name,
                hub,
                other_instance: Some(other),
            });
        }
    }
    let servers = Servers {
        _redis: redis,
        _nats: single,
        _cluster: cluster,
    };
    (stores, servers)
}

/// Two hubs made by `make`: two instances on one store.
async fn two<F: Future<Output = Hub>>(make: impl Fn() -> F) -> (Hub, Hub) {
    (make().await, make().await)
}

/// The first line `program --version` prints, to print the figures with.
fn version(program: &str) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| {
            let text = String::from_utf8_lossy(&output.stdout);
            text.lines().next().map(str::to_owned)
        })
        .unwrap_or_else(|| format!("no {program}"))
}

/// The latency rounds (on one instance, then across two), then the
/// percentiles of every event.
fn latency(config: &Config, rt: &Runtime, stores: &[Store], sizes: &Sizes) {
    let name = "publish→deliver latency, one subscriber";
    if !config.selects(name) {
        return;
    }
    // (contender, publishing hub, delivering hub)
    let mut pairs: Vec<(String, &Hub, &Hub)> = Vec::new();
    for store in stores {
        pairs.push((store.name.to_owned(), &store.hub, &store.hub));
    }
    for store in stores {
        if let Some(other) = &store.other_instance {
            pairs.push((
                format!("{}, across instances", store.name),
                &store.hub,
                other,
            ));
        }
    }
    let every_event: Vec<RefCell<Vec<Duration>>> =
        pairs.iter().map(|_| RefCell::default()).collect();
    let title = format!(
        "{name}, {} events per contender per round, one every {} µs",
        sizes.latency_events,
        sizes.period.as_micros()
    );
    let mut workload = Workload::new(title, "event");
    for ((contender, publisher, subscriber), every_event) in pairs.iter().zip(&every_event) {
        workload = workload.contender(Contender::self_timed(format!("{contender}, p50"), || {
            let mut batch = rt.block_on(measure::latencies(
                publisher,
                subscriber,
                sizes.latency_events,
                sizes.period,
            ));
            batch.sort_unstable();
            let median = measure::percentile(&batch, 0.5);
            every_event.borrow_mut().append(&mut batch);
            median
        }));
    }
    println!("{}", workload.run(config));
    println!("every event of every round:\n");
    println!("| store | events | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |");
    let micros = |latency: Duration| latency.as_secs_f64() * 1e6;
    for ((contender, _, _), every_event) in pairs.iter().zip(every_event) {
        let mut all = every_event.into_inner();
        all.sort_unstable();
        println!(
            "| {contender} | {} | {:.0} µs | {:.0} µs | {:.0} µs |",
            all.len(),
            micros(measure::percentile(&all, 0.50)),
            micros(measure::percentile(&all, 0.99)),
            micros(measure::percentile(&all, 1.0)),
        );
    }
    println!();
}

/// Publishes back to back from `concurrency` tasks, every store in turn.
fn throughput(config: &Config, rt: &Runtime, stores: &[Store], events: usize, concurrency: usize) {
    let name = match concurrency {
        1 => "publish 64 B events, each acknowledged before the next, 1 task".to_owned(),
        n => format!("publish 64 B events, each acknowledged before the next, {n} tasks at once"),
    };
    if !config.selects(&name) {
        return;
    }
    let mut workload = Workload::new(name, "event");
    for store in stores {
        workload = workload.contender(Contender::new(store.name, events as u64, || {
            rt.block_on(measure::acknowledged(&store.hub, events, concurrency))
        }));
    }
    println!("{}", workload.run(config));
}

fn main() {
    let config = Config::from_args();
    let sizes = if config.is_full() {
        Sizes {
            latency_events: 100,
            period: Duration::from_millis(1),
            throughput_events: 400,
        }
    } else {
        Sizes {
            latency_events: 10,
            period: Duration::from_millis(5),
            throughput_events: 16,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (stores, servers) = stores(&rt);
    println!(
        "{}; {}; stores measured: {}\n",
        version("redis-server"),
        version("nats-server"),
        stores
            .iter()
            .map(|store| store.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    latency(&config, &rt, &stores, &sizes);
    for concurrency in [1, 8] {
        throughput(&config, &rt, &stores, sizes.throughput_events, concurrency);
    }
    // The hubs go before their servers, so that none sees its server die.
    drop(stores);
    drop(servers);
}
