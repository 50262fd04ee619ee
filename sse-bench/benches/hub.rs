//! The hub: fan-out of one event to many subscribers, memory per idle
//! subscriber, and publish throughput, against the usual axum pattern
//! (`tokio::sync::broadcast`, each subscriber building its own
//! `axum::response::sse::Event` for every message) in the same run.
//!
//! ```text
//! cargo bench -p sse-bench --bench hub
//! ```
//!
//! Every subscriber is a response body, polled by hand with a no-op waker
//! the way a server polls it after a wake-up; "delivered" means its body
//! yielded the frame holding the event.
#![allow(clippy::print_stdout, missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::stream;
use futures_util::task::noop_waker_ref;
use http_body::Body;
use sse_engine::Event;
use sse_engine::hub::Hub;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::sync::broadcast;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type Boxed = Pin<Box<dyn Body<Data = Bytes, Error = axum::Error> + Send>>;
type OurBody = Pin<Box<dyn Body<Data = Bytes, Error = Infallible> + Send>>;

fn payload() -> String {
    format!("{{\"price\":{}}}", "1".repeat(1024 - 11))
}

/// Polls a body once; the bytes of the frame it had ready.
fn poll_once<B: Body<Data = Bytes> + ?Sized>(body: Pin<&mut B>) -> usize {
    let mut cx = Context::from_waker(noop_waker_ref());
    match body.poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().map_or(0, |data| data.len()),
        _ => 0,
    }
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
            poll_once(body.as_mut());
        }
        Self { hub, bodies }
    }

    fn fan_out(&mut self, rt: &tokio::runtime::Runtime, data: &str) -> usize {
        rt.block_on(
            self.hub
                .publish("prices", Event::new().data(data.to_owned())),
        )
        .expect("publish");
        self.bodies
            .iter_mut()
            .map(|body| poll_once(body.as_mut()))
            .sum()
    }
}

struct AxumBroadcast {
    sender: broadcast::Sender<String>,
    bodies: Vec<Boxed>,
}

impl AxumBroadcast {
    fn new(subscribers: usize) -> Self {
        use axum::response::IntoResponse;
        use axum::response::sse::{Event, KeepAlive, Sse};

        let (sender, _) = broadcast::channel(1024);
        let mut bodies: Vec<Boxed> = (0..subscribers)
            .map(|_| {
                let receiver = sender.subscribe();
                let events = stream::unfold(receiver, |mut receiver| async move {
                    let message = receiver.recv().await.ok()?;
                    Some((
                        Ok::<_, Infallible>(Event::default().data(message)),
                        receiver,
                    ))
                });
                Box::pin(
                    Sse::new(events)
                        .keep_alive(KeepAlive::new())
                        .into_response()
                        .into_body(),
                ) as Boxed
            })
            .collect();
        for body in &mut bodies {
            poll_once(body.as_mut());
        }
        Self { sender, bodies }
    }

    fn fan_out(&mut self, data: &str) -> usize {
        self.sender.send(data.to_owned()).expect("receivers");
        self.bodies
            .iter_mut()
            .map(|body| poll_once(body.as_mut()))
            .sum()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Heap bytes still held per subscriber after each was made and polled once.
fn memory_report(full: bool) {
    let rt = runtime();
    let _guard = rt.enter();
    let n = if full { 10_000 } else { 100 };
    println!("\nheap held per idle subscriber (hub and body), {n} subscribers:");
    let region = Region::new(GLOBAL);
    let ours = Ours::new(n);
    let stats = region.change();
    let held = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64;
    println!("  sse-engine hub:      {:>7.0} bytes", held / n as f64);
    drop(ours);

    let region = Region::new(GLOBAL);
    let peer = AxumBroadcast::new(n);
    let stats = region.change();
    let held = stats.bytes_allocated as f64 - stats.bytes_deallocated as f64;
    println!("  axum + broadcast:  {:>7.0} bytes", held / n as f64);
    drop(peer);
    println!();
}

fn fan_out(c: &mut Criterion) {
    let full = std::env::args().any(|arg| arg == "--bench");
    let rt = runtime();
    let _guard = rt.enter();
    let data = payload();
    let sizes: &[usize] = if full { &[1_000, 10_000] } else { &[10] };

    let mut group = c.benchmark_group("fan-out 1 KiB");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    // The peer first, at every size, before anything of ours was built (the
    // memory report, which builds both, comes last): built in a heap that
    // ours has just freed, its subscribers and per-message strings run about
    // a third slower, which would flatter the ratio (BENCHMARKS.md).
    for &n in sizes {
        group.throughput(Throughput::Elements(n as u64));
        let mut peer = AxumBroadcast::new(n);
        group.bench_with_input(BenchmarkId::new("axum + broadcast", n), &n, |b, _| {
            b.iter(|| assert!(peer.fan_out(&data) >= n * data.len()));
        });
    }
    for &n in sizes {
        group.throughput(Throughput::Elements(n as u64));
        let mut ours = Ours::new(n);
        group.bench_with_input(BenchmarkId::new("sse-engine hub", n), &n, |b, _| {
            b.iter(|| assert!(ours.fan_out(&rt, &data) >= n * data.len()));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("publish 1 KiB");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    let attached: &[usize] = if full { &[0, 1_000, 10_000] } else { &[0, 10] };
    for &n in attached {
        let ours = Ours::new(n);
        group.bench_with_input(BenchmarkId::new("subscribers attached", n), &n, |b, _| {
            b.iter(|| {
                rt.block_on(ours.hub.publish("prices", Event::new().data(data.clone())))
                    .expect("publish")
            });
        });
    }
    group.finish();
    memory_report(full);
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
