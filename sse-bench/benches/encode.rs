//! Encoding throughput: one stream of events polled to the end through each
//! library's SSE body, with the same events, the libraries interleaved in
//! rounds (`sse_bench::rounds`).
//!
//! ```text
//! cargo bench -p sse-bench --bench encode [-- WORKLOAD...]
//! ```
//!
//! Workloads (from the workspace's issue tracker):
//! - `tokens`: 1,000,000 events, each with an id, `event: delta` and ~64 bytes
//!   of JSON data, the shape of an LLM token stream;
//! - `tokens, id as text`: the same events, the id handed over as a `String`
//!   (`n.to_string()`), the way axum users pass it;
//! - `multiline`: 200,000 events of 16 lines of ~64 bytes;
//! - `large`: 20,000 events with one 64 KiB line already held as shared bytes.
//!
//! Each library gets its events built the way its own documentation shows,
//! with keep-alive on (15 s) as a production server would have it. Every
//! sample counts its heap allocations (a counting global allocator), and
//! the report gives them per event with the bytes per event.
//!
//! One more row, "sse-engine, events built, not encoded", builds
//! sse-engine's events through the same closure and stream and drops them:
//! what the caller's side costs before the encoder sees an event.
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::pin;
use std::time::Duration;

use actix_web::body::MessageBody;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http_body::Body;
use sse_bench::drain;
use sse_bench::rounds::{Clock, Config, Contender, Workload};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The contender that builds sse-engine's events without encoding them.
const BUILD_ONLY: &str = "sse-engine, events built, not encoded";
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const TOKEN_JSON: &str = r#"{"id":"chatcmpl-42","choices":[{"delta":{"content":" token"}}]}"#;

/// How the workload's events carry their id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Id {
    None,
    /// The event's number, handed over as a number where the library takes
    /// one (sse-engine), else as text formatted on the stack.
    Number,
    /// The event's number as a `String`, `n.to_string()`, for every library.
    Text,
}

/// What every library is asked to encode: the same events.
#[derive(Clone)]
struct Spec {
    name: &'static str,
    events: u64,
    /// The event type, when the workload has one.
    event: Option<&'static str>,
    id: Id,
    /// The data, held as shared bytes (a cache, a serializer's output).
    data: Bytes,
}

impl Spec {
    fn data_str(&self) -> &str {
        std::str::from_utf8(&self.data).expect("workload data is UTF-8")
    }
}

fn specs(full: bool) -> Vec<Spec> {
    let scale = if full { 1 } else { 1_000 };
    let line = "x".repeat(63);
    let multiline = vec![line; 16].join("\n");
    let tokens = Spec {
        name: "tokens",
        events: 1_000_000 / scale,
        event: Some("delta"),
        id: Id::Number,
        data: Bytes::from_static(TOKEN_JSON.as_bytes()),
    };
    vec![
        tokens.clone(),
        Spec {
            name: "tokens, id as text",
            id: Id::Text,
            ..tokens
        },
        Spec {
            name: "multiline",
            events: 200_000 / scale,
            event: None,
            id: Id::None,
            data: Bytes::from(multiline),
        },
        Spec {
            name: "large",
            events: 20_000 / scale,
            event: None,
            id: Id::None,
            data: Bytes::from(vec![b'L'; 64 * 1024]),
        },
    ]
}

/// sse-engine's events, built the way its documentation shows.
fn our_events(
    spec: &Spec,
) -> impl futures_util::Stream<Item = Result<sse_engine::Event, Infallible>> + use<> {
    let text = sse_engine::Text::from_utf8(spec.data.clone()).expect("UTF-8");
    let (event, id) = (spec.event, spec.id);
    stream::iter(0..spec.events).map(move |n| {
        let mut built = sse_engine::Event::new().data(text.clone());
        if let Some(name) = event {
            built = built.event(name);
        }
        match id {
            Id::None => {}
            Id::Number => built = built.id(n),
            Id::Text => built = built.id(n.to_string()),
        }
        Ok::<_, Infallible>(built)
    })
}

fn ours(spec: &Spec) -> impl Body<Data = Bytes, Error = Infallible> {
    sse_engine::SseBody::new(our_events(spec))
        .keep_alive(sse_engine::KeepAlive::new().interval(KEEP_ALIVE))
}

/// Builds sse-engine's events and drops them, encoding nothing: the share
/// of a run that is the caller's closure (building each event, an id's
/// `to_string`) and the stream adapter, not the encoder. Returns no bytes.
async fn build_only(spec: &Spec) -> usize {
    let mut events = pin!(our_events(spec));
    while let Some(event) = events.next().await {
        std::hint::black_box(&event);
    }
    0
}

fn axum_sse(spec: &Spec) -> axum::body::Body {
    use axum::response::IntoResponse;
    use axum::response::sse::{Event, KeepAlive, Sse};

    // Checked as UTF-8 once, as the others' data is: axum takes `&str`.
    let text = spec.data_str().to_owned();
    let (event, id) = (spec.event, spec.id);
    let events = stream::iter(0..spec.events).map(move |n| {
        let mut built = Event::default().data(&text);
        if let Some(name) = event {
            built = built.event(name);
        }
        match id {
            Id::None => {}
            Id::Number => built = built.id(itoa::Buffer::new().format(n)),
            Id::Text => built = built.id(n.to_string()),
        }
        Ok::<_, Infallible>(built)
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
        .into_body()
}

fn actix_sse(spec: &Spec) -> impl MessageBody<Error = Box<dyn std::error::Error>> {
    use actix_web_lab::sse::{Data, Event, Sse};

    let text = bytestring::ByteString::try_from(spec.data.clone()).expect("UTF-8");
    let (event, id) = (spec.event, spec.id);
    let events = stream::iter(0..spec.events).map(move |n| {
        let mut built = Data::new(text.clone());
        if let Some(name) = event {
            built = built.event(name);
        }
        match id {
            Id::None => {}
            Id::Number => built = built.id(itoa::Buffer::new().format(n)),
            Id::Text => built = built.id(n.to_string()),
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

fn allocations() -> u64 {
    GLOBAL.stats().allocations as u64
}

fn main() {
    let config = Config::from_args()
        .clock(Clock::ThreadCpu)
        .count_allocations(allocations);
    let rt = sse_bench::bench_runtime();
    for spec in specs(config.is_full()) {
        if !config.selects(spec.name) {
            continue;
        }
        let spec = &spec;
        let rt = &rt;
        // Each body is built inside the runtime, where a server builds it
        // (axum's keep-alive needs the runtime's timer when it is built).
        let report = Workload::new(spec.name, "event")
            .output("bytes")
            .contender(Contender::new("sse-engine", spec.events, move || {
                rt.block_on(async { drain(ours(spec)).await }) as u64
            }))
            .contender(Contender::new("axum", spec.events, move || {
                rt.block_on(async { drain(axum_sse(spec)).await }) as u64
            }))
            .contender(Contender::new("actix-web-lab", spec.events, move || {
                rt.block_on(async { drain_actix(actix_sse(spec)).await }) as u64
            }))
            .contender(Contender::new(BUILD_ONLY, spec.events, move || {
                rt.block_on(async { build_only(spec).await }) as u64
            }))
            .run(&config);
        let bytes: Vec<_> = report
            .rows()
            .iter()
            .filter(|row| row.name != BUILD_ONLY)
            .map(|row| row.output_per_element)
            .collect();
        assert!(
            bytes.iter().all(|each| *each == bytes[0]),
            "every library writes the same bytes: {bytes:?}"
        );
        println!("{report}");
    }
}
