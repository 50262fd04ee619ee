//! Compressed hub fan-out: one OpenAI-shaped token event published to 1,000
//! and 10,000 subscribers whose streams are compressed (zstd, gzip,
//! Brotli, each subscriber with its own compressor, as a hub endpoint with
//! `Endpoint::compression` serves them), against the same hub uncompressed
//! and the usual axum pattern (`tokio::sync::broadcast`, uncompressed),
//! interleaved in rounds (`sse_bench::rounds`); then the heap each
//! compressed subscriber holds.
//!
//! ```text
//! cargo bench -p sse-bench --bench hub_compressed [-- WORKLOAD...]
//! ```
//!
//! Subscribers are response bodies polled by hand until they have nothing
//! ready, as in the `hub` bench; "delivered" means the body yielded a
//! frame (compressed, flushed) holding the event. Every event is published
//! and delivered on its own, so every subscriber flushes its compressor
//! once per event: what a live token stream costs.
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::pin::Pin;

use bytes::Bytes;
use http_body::Body;
use sse_bench::fan_out::{AxumBroadcast, poll_until_pending};
use sse_bench::rounds::{Clock, Config, Contender, Workload};
use sse_engine::Event;
use sse_engine::compression::{Codec, Compression};
use sse_engine::hub::Hub;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type OurBody = Pin<Box<dyn Body<Data = Bytes, Error = Infallible> + Send>>;

/// The token deltas events carry in turn, so that consecutive events differ
/// as a model's do.
const DELTAS: [&str; 8] = [" the", " stream", " is", " a", " tok", "en", " of", " text"];

fn token(n: usize) -> String {
    format!(
        r#"{{"id":"chatcmpl-9XkQ2mZl7","object":"chat.completion.chunk","created":1733480000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{{"index":0,"delta":{{"content":"{}"}},"logprobs":null,"finish_reason":null}}]}}"#,
        DELTAS[n % DELTAS.len()]
    )
}

/// Polls every body until it is pending; the bytes they yielded, each
/// checked to have yielded something (a compressed event is smaller than
/// the event, so the check is on frames, not on sizes).
fn deliver<B: Body<Data = Bytes> + ?Sized>(bodies: &mut [Pin<Box<B>>]) -> u64 {
    let mut total = 0;
    for body in bodies.iter_mut() {
        let bytes = poll_until_pending(body.as_mut());
        assert!(bytes > 0, "every subscriber had the event");
        total += bytes as u64;
    }
    total
}

/// A hub whose subscribers' streams all use `compression`.
struct Ours {
    hub: Hub,
    bodies: Vec<OurBody>,
    next: usize,
}

impl Ours {
    fn new(subscribers: usize, compression: Compression) -> Self {
        let hub = Hub::new();
        let mut bodies: Vec<OurBody> = (0..subscribers)
            .map(|_| {
                let body = hub
                    .subscribe(&["tokens"], None)
                    .expect("subscribe")
                    .into_body()
                    .compression(compression);
                Box::pin(body) as OurBody
            })
            .collect();
        for body in &mut bodies {
            poll_until_pending(body.as_mut());
        }
        Self {
            hub,
            bodies,
            next: 0,
        }
    }

    /// Publishes the next token and delivers it to every body.
    fn fan_out(&mut self, rt: &tokio::runtime::Runtime) -> u64 {
        let data = token(self.next);
        self.next += 1;
        rt.block_on(self.hub.publish("tokens", Event::new().data(data)))
            .expect("publish");
        deliver(&mut self.bodies)
    }
}

/// The codecs measured, as a subscriber's stream is told to use them.
fn codecs() -> [(&'static str, Compression); 4] {
    [
        ("identity", Compression::identity()),
        ("zstd", Compression::forced(Codec::Zstd)),
        ("gzip", Compression::forced(Codec::Gzip)),
        ("br", Compression::forced(Codec::Brotli)),
    ]
}

fn allocations() -> u64 {
    GLOBAL.stats().allocations as u64
}

/// Each size's hubs are built, measured and dropped before the next size:
/// 10,000 Brotli and gzip subscribers hold gigabytes.
fn fan_out(config: &Config, rt: &tokio::runtime::Runtime) {
    let sizes: [usize; 2] = if config.is_full() {
        [1_000, 10_000]
    } else {
        [10, 100]
    };
    for n in sizes {
        let name = format!("compressed fan-out of one token event, {n} subscribers");
        if !config.selects(&name) {
            continue;
        }
        let mut peer = AxumBroadcast::new(n);
        let mut next = 0;
        let mut ours: Vec<(&str, Ours)> = codecs()
            .into_iter()
            .map(|(codec, compression)| (codec, Ours::new(n, compression)))
            .collect();
        let mut workload = Workload::new(name, "delivery").output("bytes");
        for (codec, hub) in &mut ours {
            workload = workload.contender(Contender::new(
                format!("sse-engine hub, {codec}"),
                n as u64,
                || hub.fan_out(rt),
            ));
        }
        let report = workload
            .contender(Contender::new(
                "axum + broadcast, identity",
                n as u64,
                || {
                    next += 1;
                    deliver(peer.send(token(next)))
                },
            ))
            .run(config);
        println!("{report}");
    }
}

/// Heap held per subscriber after each got 20 events, for each codec, as
/// the counting allocator sees it: Brotli and gzip state is Rust's, but
/// libzstd allocates its own (97,405 B per stream more, which
/// `sse-core/tests/compression_memory.rs` reads with `ZSTD_sizeof_CCtx`).
fn memory_report(config: &Config, rt: &tokio::runtime::Runtime) {
    if !config.selects("memory") {
        return;
    }
    let n = if config.is_full() { 10_000 } else { 100 };
    println!("### heap held per subscriber after 20 events, {n} subscribers\n");
    println!("| codec | bytes per subscriber (Rust heap) |\n| --- | ---: |");
    for (codec, compression) in codecs() {
        let region = Region::new(GLOBAL);
        let mut hub = Ours::new(n, compression);
        for _ in 0..20 {
            hub.fan_out(rt);
        }
        let stats = region.change();
        let held = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64;
        println!("| {codec} | {:.0} |", held / n as f64);
        drop(hub);
    }
    println!();
}

fn main() {
    let config = Config::from_args()
        .clock(Clock::ThreadCpu)
        .count_allocations(allocations);
    let rt = sse_bench::bench_runtime();
    let _guard = rt.enter();
    fan_out(&config, &rt);
    memory_report(&config, &rt);
}
