//! Overhead of the sse-tower response layer: on a response that is not an
//! event stream (it should pass through for free), and on the throughput of
//! an event stream (it follows event boundaries in every frame).
//!
//! ```text
//! cargo bench -p sse-bench --bench tower
//! ```
#![allow(missing_docs)]

use std::convert::Infallible;
use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use futures_util::stream;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use sse_core::{Event, SseBody};
use sse_tower::response::SseResponseLayer;
use tower::{Layer, Service, ServiceExt, service_fn};

const EVENTS: u64 = 100_000;

async fn drain<B: Body>(body: B) -> usize
where
    B::Error: std::fmt::Debug,
{
    let mut body = pin!(body);
    let mut total = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body error").into_data() {
            total += bytes::Buf::remaining(&data);
        }
    }
    total
}

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

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let layer = SseResponseLayer::new();

    let mut group = c.benchmark_group("non-SSE response, 1 KiB");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("without layer", |b| {
        let service = json_handler();
        b.iter(|| {
            rt.block_on(async {
                drain(
                    service
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
    group.bench_function("with SseResponseLayer", |b| {
        let service = layer.layer(json_handler());
        b.iter(|| {
            rt.block_on(async {
                drain(
                    service
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

    let mut group = c.benchmark_group("SSE stream, 100k token events");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("without layer", |b| {
        let service = sse_handler();
        b.iter(|| {
            rt.block_on(async {
                drain(
                    service
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
    group.bench_function("with SseResponseLayer", |b| {
        let service = layer.layer(sse_handler());
        b.iter(|| {
            rt.block_on(async {
                drain(
                    service
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

criterion_group!(benches, overhead);
criterion_main!(benches);
