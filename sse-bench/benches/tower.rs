//! Overhead of the sse-tower response layer: on a response that is not an
//! event stream (it should pass through for free), and on the throughput of
//! an event stream (it follows event boundaries in every frame).
//!
//! ```text
//! cargo bench -p sse-bench --bench tower
//! ```
#![allow(missing_docs)]

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use futures_util::stream;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use sse_bench::drain;
use sse_engine::{Event, SseBody};
use sse_tower::response::SseResponseLayer;
use tower::{Layer, Service, ServiceExt, service_fn};

const EVENTS: u64 = 100_000;

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

fn sse_handler() -> impl Service<
    Request<()>,
    Response = Response<impl Body<Data = Bytes, Error = Infallible>>,
    Error = Infallible,
> + Clone {
    service_fn(|_: Request<()>| async {
        let events = stream::iter(0..EVENTS).map(|n| {
            Event::new()
                .event("delta")
                .id(n)
                .data(r#"{"choices":[{"delta":{"content":" token"}}]}"#)
        });
        Ok::<_, Infallible>(SseBody::from_infallible_stream(events).into_response())
    })
}

/// One benchmark group: `handler` called bare, then behind the layer.
fn compare<S, B>(
    c: &mut Criterion,
    name: &str,
    elements: u64,
    handler: &S,
    rt: &tokio::runtime::Runtime,
) where
    S: Service<Request<()>, Response = Response<B>, Error = Infallible> + Clone,
    B: Body<Data = Bytes, Error = Infallible>,
{
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(elements));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("without layer", |b| {
        b.iter(|| {
            rt.block_on(async {
                drain(
                    handler
                        .clone()
                        .oneshot(Request::new(()))
                        .await
                        .expect("ok")
                        .into_body(),
                )
                .await
            })
        });
    });
    let layered = SseResponseLayer::new().layer(handler.clone());
    group.bench_function("with SseResponseLayer", |b| {
        b.iter(|| {
            rt.block_on(async {
                drain(
                    layered
                        .clone()
                        .oneshot(Request::new(()))
                        .await
                        .expect("ok")
                        .into_body(),
                )
                .await
            })
        });
    });
    group.finish();
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    compare(c, "non-SSE response, 1 KiB", 1, &json_handler(), &rt);
    compare(
        c,
        "SSE stream, 100k token events",
        EVENTS,
        &sse_handler(),
        &rt,
    );
}

criterion_group!(benches, overhead);
criterion_main!(benches);
