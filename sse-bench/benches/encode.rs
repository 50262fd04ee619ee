//! Encoding throughput: one stream of events polled to the end through each
//! library's SSE body, in the same run, with the same events.
//!
//! ```text
//! cargo bench -p sse-bench --bench encode
//! ```
//!
//! Workloads (from the workspace's issue tracker):
//! - `tokens`: 1,000,000 events, each with an id, `event: delta` and ~64 bytes
//!   of JSON data, the shape of an LLM token stream;
//! - `multiline`: 200,000 events of 16 lines of ~64 bytes;
//! - `large`: 20,000 events with one 64 KiB line already held as shared bytes.
//!
//! Each library gets its events built the way its own documentation shows,
//! with keep-alive on (15 s) as a production server would have it. Before
//! criterion's timings, one pass of each is run under a counting allocator and
//! its heap allocations per event and bytes per event are printed.
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::pin;
use std::time::Duration;

use actix_web::body::MessageBody;
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::stream::{self, StreamExt};
use http_body::Body;
use sse_bench::drain;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const KEEP_ALIVE: Duration = Duration::from_secs(15);
const TOKEN_JSON: &str = r#"{"id":"chatcmpl-42","choices":[{"delta":{"content":" token"}}]}"#;

/// What every library is asked to encode: the same events.
#[derive(Clone)]
struct Workload {
    name: &'static str,
    events: u64,
    /// The event type, when the workload has one.
    event: Option<&'static str>,
    with_id: bool,
    /// The data, held as shared bytes (a cache, a serializer's output).
    data: Bytes,
}

impl Workload {
    fn data_str(&self) -> &str {
        std::str::from_utf8(&self.data).expect("workload data is UTF-8")
    }
}

fn workloads(full: bool) -> Vec<Workload> {
    let scale = if full { 1 } else { 100 };
    let line = "x".repeat(63);
    let multiline = vec![line; 16].join("\n");
    vec![
        Workload {
            name: "tokens",
            events: 1_000_000 / scale,
            event: Some("delta"),
            with_id: true,
            data: Bytes::from_static(TOKEN_JSON.as_bytes()),
        },
        Workload {
            name: "multiline",
            events: 200_000 / scale,
            event: None,
            with_id: false,
            data: Bytes::from(multiline),
        },
        Workload {
            name: "large",
            events: 20_000 / scale,
            event: None,
            with_id: false,
            data: Bytes::from(vec![b'L'; 64 * 1024]),
        },
    ]
}

fn ours(work: &Workload) -> impl Body<Data = Bytes, Error = Infallible> {
    let text = sse_engine::Text::from_utf8(work.data.clone()).expect("UTF-8");
    let (event, with_id) = (work.event, work.with_id);
    let events = stream::iter(0..work.events).map(move |n| {
        let mut built = sse_engine::Event::new().data(text.clone());
        if let Some(name) = event {
            built = built.event(name);
        }
        if with_id {
            built = built.id(n);
        }
        Ok::<_, Infallible>(built)
    });
    sse_engine::SseBody::new(events).keep_alive(sse_engine::KeepAlive::new().interval(KEEP_ALIVE))
}

fn axum_sse(work: &Workload) -> axum::body::Body {
    use axum::response::IntoResponse;
    use axum::response::sse::{Event, KeepAlive, Sse};

    // Checked as UTF-8 once, as the others' data is: axum takes `&str`.
    let text = work.data_str().to_owned();
    let (event, with_id) = (work.event, work.with_id);
    let events = stream::iter(0..work.events).map(move |n| {
        let mut built = Event::default().data(&text);
        if let Some(name) = event {
            built = built.event(name);
        }
        if with_id {
            built = built.id(itoa::Buffer::new().format(n));
        }
        Ok::<_, Infallible>(built)
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
        .into_body()
}

fn actix_sse(work: &Workload) -> impl MessageBody<Error = Box<dyn std::error::Error>> {
    use actix_web_lab::sse::{Data, Event, Sse};

    let text = bytestring::ByteString::try_from(work.data.clone()).expect("UTF-8");
    let (event, with_id) = (work.event, work.with_id);
    let events = stream::iter(0..work.events).map(move |n| {
        let mut built = Data::new(text.clone());
        if let Some(name) = event {
            built = built.event(name);
        }
        if with_id {
            built = built.id(itoa::Buffer::new().format(n));
        }
        Ok::<_, Infallible>(Event::Data(built))
    });
    Sse::from_stream(events).with_keep_alive(KEEP_ALIVE)
}

/// Polls an actix-web body to the end; returns the bytes it produced.
async fn drain_actix<B: MessageBody>(body: B) -> usize
where
    B::Error: std::fmt::Debug,
{
    let mut body = pin!(body);
    let mut total = 0;
    while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        total += chunk.expect("body error").len();
    }
    total
}

type Library = (
    &'static str,
    fn(&Workload, &tokio::runtime::Runtime) -> usize,
);

fn libraries() -> [Library; 3] {
    [
        ("sse-engine", |work, rt| rt.block_on(drain(ours(work)))),
        ("axum", |work, rt| {
            rt.block_on(async { drain(axum_sse(work)).await })
        }),
        ("actix-web-lab", |work, rt| {
            rt.block_on(async { drain_actix(actix_sse(work)).await })
        }),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn allocation_report(work: &[Workload]) {
    let rt = runtime();
    println!(
        "\n{:<10} {:<14} {:>12} {:>14}",
        "workload", "library", "bytes/event", "allocs/event"
    );
    for work in work {
        for (library, run) in libraries() {
            let region = Region::new(GLOBAL);
            let bytes = run(work, &rt);
            let stats = region.change();
            println!(
                "{:<10} {:<14} {:>12.1} {:>14.3}",
                work.name,
                library,
                bytes as f64 / work.events as f64,
                stats.allocations as f64 / work.events as f64,
            );
        }
    }
    println!();
}

fn encode(c: &mut Criterion) {
    let full = std::env::args().any(|arg| arg == "--bench");
    let work = workloads(full);
    allocation_report(&work);
    let rt = runtime();
    for work in &work {
        let mut group = c.benchmark_group(work.name);
        group.throughput(Throughput::Elements(work.events));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(6));
        for (library, run) in libraries() {
            group.bench_function(library, |b| b.iter(|| run(work, &rt)));
        }
        group.finish();
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
