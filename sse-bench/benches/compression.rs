//! Compressed event streams: bytes on the wire and encode time per event,
//! identity against gzip, Brotli and zstd (sse-engine's `SseBody` with
//! `compression`), each divided by axum's uncompressed `Sse` on the same
//! events in the same round (`sse_bench::rounds`).
//!
//! ```text
//! cargo bench -p sse-bench --bench compression [-- WORKLOAD...]
//! ```
//!
//! Every event reaches the body alone (the stream is pending between
//! events, as a live token stream is), so each event is one frame, and each
//! compressed frame is flushed: what a client reading on time costs.
//!
//! Workloads:
//! - `openai tokens`: chat-completion chunks with 1 to 6 character deltas;
//! - `anthropic tokens`: `content_block_delta` events with text deltas;
//! - `dashboard`: a small JSON object with a few changing numbers;
//! - `chat`: chat messages of 3 to 14 words.
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{self, Stream, StreamExt};
use sse_bench::drain;
use sse_bench::rounds::{Clock, Config, Contender, Workload};
use sse_engine::compression::{Codec, Compression};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// One workload: its events' type and data, made up front.
struct Spec {
    name: &'static str,
    event: Option<&'static str>,
    data: Arc<[String]>,
}

/// A small deterministic generator, so every run sends the same events.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.next() as usize % words.len()]
    }
}

const WORDS: [&str; 32] = [
    "the",
    "stream",
    "is",
    "a",
    "token",
    "of",
    "server",
    "events",
    "and",
    "every",
    "client",
    "reads",
    "it",
    "on",
    "time",
    "with",
    "compression",
    "that",
    "flushes",
    "after",
    "each",
    "frame",
    "so",
    "nothing",
    "waits",
    "hello",
    "world",
    "model",
    "answer",
    "question",
    "why",
    "because",
];

fn specs(full: bool) -> Vec<Spec> {
    let events = if full { 200_000 } else { 200 };
    let mut rng = Lcg(7);
    let delta = |rng: &mut Lcg| {
        let word = rng.pick(&WORDS);
        let len = 1 + rng.next() as usize % 6;
        format!(" {word}").chars().take(len).collect::<String>()
    };
    let openai: Vec<String> = (0..events)
        .map(|_| {
            format!(
                r#"{{"id":"chatcmpl-9XkQ2mZl7","object":"chat.completion.chunk","created":1733480000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{{"index":0,"delta":{{"content":"{}"}},"logprobs":null,"finish_reason":null}}]}}"#,
                delta(&mut rng)
            )
        })
        .collect();
    let anthropic: Vec<String> = (0..events)
        .map(|_| {
            format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{}"}}}}"#,
                delta(&mut rng)
            )
        })
        .collect();
    let dashboard: Vec<String> = (0..events)
        .map(|n| {
            format!(
                r#"{{"cpu":{}.{},"mem_mb":{},"rps":{},"p99_ms":{}.{:02},"ts":{}}}"#,
                rng.next() % 100,
                rng.next() % 10,
                2048 + rng.next() % 512,
                900 + rng.next() % 300,
                rng.next() % 80,
                rng.next() % 100,
                1_733_480_000_000_u64 + n * 250
            )
        })
        .collect();
    let chat: Vec<String> = (0..events)
        .map(|n| {
            let words = 3 + n % 12;
            let text: Vec<&str> = (0..words).map(|_| rng.pick(&WORDS)).collect();
            format!(r#"{{"user":"user{}","text":"{}"}}"#, n % 17, text.join(" "))
        })
        .collect();
    vec![
        Spec {
            name: "openai tokens",
            event: None,
            data: openai.into(),
        },
        Spec {
            name: "anthropic tokens",
            event: Some("content_block_delta"),
            data: anthropic.into(),
        },
        Spec {
            name: "dashboard",
            event: Some("metrics"),
            data: dashboard.into(),
        },
        Spec {
            name: "chat",
            event: Some("message"),
            data: chat.into(),
        },
    ]
}

/// A stream that is pending once before each item (waking itself), so that a
/// body sends every event as a frame of its own, as on a live stream.
struct OneAtATime<S> {
    inner: S,
    ready: bool,
}

impl<S: Stream + Unpin> Stream for OneAtATime<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if !std::mem::replace(&mut self.ready, false) {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.inner.poll_next_unpin(cx)
    }
}

fn one_at_a_time<S: Stream>(inner: S) -> OneAtATime<S> {
    OneAtATime {
        inner,
        ready: false,
    }
}

fn ours(
    spec: &Spec,
    compression: Compression,
) -> impl http_body::Body<Data = bytes::Bytes, Error = Infallible> {
    let (event, data) = (spec.event, spec.data.clone());
    let events = stream::iter(0..data.len()).map(move |n| {
        let mut built = sse_engine::Event::new().id(n as u64).data(data[n].as_str());
        if let Some(name) = event {
            built = built.event(name);
        }
        Ok::<_, Infallible>(built)
    });
    sse_engine::SseBody::new(one_at_a_time(events)).compression(compression)
}

fn axum_sse(spec: &Spec) -> axum::body::Body {
    use axum::response::IntoResponse;
    use axum::response::sse::{Event, Sse};

    let (event, data) = (spec.event, spec.data.clone());
    let events = stream::iter(0..data.len()).map(move |n| {
        let mut built = Event::default()
            .id(itoa::Buffer::new().format(n))
            .data(&data[n]);
        if let Some(name) = event {
            built = built.event(name);
        }
        Ok::<_, Infallible>(built)
    });
    Sse::new(one_at_a_time(events)).into_response().into_body()
}

fn allocations() -> u64 {
    GLOBAL.stats().allocations as u64
}

fn main() {
    let config = Config::from_args()
        .clock(Clock::ThreadCpu)
        .count_allocations(allocations);
    let rt = sse_bench::bench_runtime();
    let rt = &rt;
    for spec in specs(config.is_full()) {
        if !config.selects(spec.name) {
            continue;
        }
        let spec = &spec;
        let events = spec.data.len() as u64;
        // axum's uncompressed `Sse` is the baseline: the target is that a
        // compressed stream costs no more per event than it does.
        let mut workload = Workload::new(spec.name, "event")
            .output("bytes")
            .contender(Contender::new("axum (identity)", events, move || {
                rt.block_on(drain(axum_sse(spec))) as u64
            }))
            .contender(Contender::new("sse-engine identity", events, move || {
                rt.block_on(drain(ours(spec, Compression::identity()))) as u64
            }));
        for codec in Codec::ALL {
            workload = workload.contender(Contender::new(
                format!("sse-engine {codec}"),
                events,
                move || rt.block_on(drain(ours(spec, Compression::forced(codec)))) as u64,
            ));
        }
        let report = workload.run(&config);
        println!("{report}");
    }
}
