//! Overhead of the sse-tower response layer: on a response that is not an
//! event stream (it should pass through for free), and on the throughput of
//! an event stream (it follows event boundaries in every frame). The same
//! handler bare and behind the layer, interleaved in rounds
//! (`sse_bench::rounds`).
//!
//! ```text
//! cargo bench -p sse-bench --bench tower [-- WORKLOAD...]
//! ```
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use sse_bench::drain;
use sse_bench::rounds::{Clock, Config, Contender, Workload};
use sse_engine::{Event, SseBody};
use sse_tower::response::SseResponseLayer;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tower::{Layer, Service, ServiceExt, service_fn};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn json_handler()
-> impl Service<Request<()>, Response = Response<Full<Bytes>>, Error = Infallible> + Clone {
    service_fn(|_: Request<()>| async {
        let response = Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(vec![b'1'; 1024])))
            .expect("response");
        Ok::<_, Infallible>(response)
    })
}

fn sse_handler(
    events: u64,
) -> impl Service<
    Request<()>,
    Response = Response<impl Body<Data = Bytes, Error = Infallible>>,
    Error = Infallible,
> + Clone {
    service_fn(move |_: Request<()>| async move {
        let events = stream::iter(0..events).map(|n| {
            Event::new()
                .event("delta")
                .id(n)
                .data(r#"{"choices":[{"delta":{"content":" token"}}]}"#)
        });
        Ok::<_, Infallible>(SseBody::from_infallible_stream(events).into_response())
    })
}

/// Calls `service` once and polls the body to the end; the body's bytes.
fn call<S, B>(service: &S, rt: &tokio::runtime::Runtime) -> u64
where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible> + Clone,
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    rt.block_on(async {
        let response = service.clone().oneshot(Request::new(())).await.expect("ok");
        drain(response.into_body()).await as u64
    })
}

/// `handler` called bare, then behind the layer, in rounds.
fn compare<S, B>(
    config: &Config,
    name: &str,
    element: &str,
    elements: u64,
    handler: &S,
    rt: &tokio::runtime::Runtime,
) where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible> + Clone,
    B: Body<Data = Bytes, Error = Infallible>,
{
    if !config.selects(name) {
        return;
    }
    let layered = SseResponseLayer::new().layer(handler.clone());
    let report = Workload::new(name, element)
        .contender(Contender::new("without layer", elements, || {
            call(handler, rt)
        }))
        .contender(Contender::new("with SseResponseLayer", elements, || {
            call(&layered, rt)
        }))
        .run(config)
        .with_difference();
    println!("{report}");
}

fn allocations() -> u64 {
    GLOBAL.stats().allocations as u64
}

fn main() {
    let config = Config::from_args()
        .clock(Clock::ThreadCpu)
        .count_allocations(allocations);
    let rt = sse_bench::bench_runtime();
    let events = if config.is_full() { 100_000 } else { 100 };
    compare(
        &config,
        "non-SSE response, 1 KiB",
        "request",
        1,
        &json_handler(),
        &rt,
    );
    compare(
        &config,
        "SSE stream of token events",
        "event",
        events,
        &sse_handler(events),
        &rt,
    );
}
