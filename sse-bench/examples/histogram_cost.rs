//! What a publish-to-delivery histogram would add to every delivery at the
//! least: a clock read, and a sample in the histogram of the Prometheus
//! recorder the chat examples serve `GET /metrics` with; against one
//! counter increment, what each delivery pays now (BENCHMARKS.md,
//! "Metrics: the cost per delivery").
//!
//! ```text
//! cargo run --release -p sse-bench --features metrics --example histogram_cost
//! ```
#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

const CALLS: u32 = 10_000_000;

/// Nanoseconds per call of `work`, over [`CALLS`] calls.
fn per_call(mut work: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS {
        work();
    }
    start.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

fn main() {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("no other recorder is installed");
    let histogram = metrics::histogram!("sse_delivery_delay_seconds");
    let counter = metrics::counter!("sse_hub_events_delivered_total");
    let published = Instant::now();
    println!("| round | clock read | clock read + histogram sample | counter increment |");
    println!("| ---: | ---: | ---: | ---: |");
    for round in 1..=3 {
        let clock = per_call(|| {
            black_box(black_box(Instant::now()).duration_since(published));
        });
        let sampled = per_call(|| {
            histogram.record(black_box(Instant::now()).duration_since(published));
        });
        let counted = per_call(|| counter.increment(black_box(1)));
        println!("| {round} | {clock:.1} ns | {sampled:.1} ns | {counted:.1} ns |");
    }
}
