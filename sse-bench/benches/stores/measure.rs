//! What the stores bench measures on a hub (or a pair of hubs on one
//! store): the delay from a publish to its delivery, and how many publishes
//! are acknowledged per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_engine::Event;
use sse_engine::decode::Decoder;
use sse_engine::hub::Hub;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

/// The topic every measure publishes to.
const TOPIC: &str = "bench";

/// How long a batch may take to arrive before the bench fails: far more
/// than any store needs, so only a lost event trips it.
const ARRIVAL_WAIT: Duration = Duration::from_secs(30);

/// Tells one batch's events from those of earlier batches, which a second
/// instance's feed may still be delivering when the next batch starts.
static BATCH: AtomicU64 = AtomicU64::new(0);

/// Publishes `events` through `publisher`, one every `period` (each awaited
/// before the next), to one subscriber of `subscriber` (the same hub, or
/// another instance on the same store); each event's delay from the moment
/// its publish began to the moment the subscription yielded it.
///
/// # Panics
///
/// When an event does not arrive, or arrives twice.
pub(crate) async fn latencies(
    publisher: &Hub,
    subscriber: &Hub,
    events: usize,
    period: Duration,
) -> Vec<Duration> {
    let batch = BATCH.fetch_add(1, Ordering::Relaxed);
    let mut subscription = subscriber.subscribe(&[TOPIC], None).expect("subscribes");
    let arrivals = tokio::spawn(async move {
        let mut arrived: Vec<Option<Instant>> = vec![None; events];
        let mut missing = events;
        let mut decoder = Decoder::new();
        while missing > 0 {
            let encoded = subscription.next().await.expect("the subscription goes on");
            let now = Instant::now();
            decoder.push(encoded.as_bytes()).expect("decodes");
            while let Some(event) = decoder.next_event() {
                let Some((from, index)) = event.data().split_once(' ') else {
                    continue;
                };
                if from.parse() != Ok(batch) {
                    continue;
                }
                let index: usize = index.parse().expect("an index");
                assert!(arrived[index].replace(now).is_none(), "{index} came twice");
                missing -= 1;
            }
        }
        arrived
    });
    // A publish slower than the period delays the next one rather than
    // bunching the ones after it: the pace stays one at a time.
    let mut pace = tokio::time::interval(period);
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut began = Vec::with_capacity(events);
    for index in 0..events {
        pace.tick().await;
        began.push(Instant::now());
        publisher
            .publish(TOPIC, Event::new().data(format!("{batch} {index}")))
            .await
            .expect("published");
    }
    let arrived = tokio::time::timeout(ARRIVAL_WAIT, arrivals)
        .await
        .expect("the batch arrives")
        .expect("the subscriber ran");
    began
        .into_iter()
        .zip(arrived)
        .map(|(began, arrived)| arrived.expect("arrived").saturating_duration_since(began))
        .collect()
}

/// Publishes `events` 64-byte events through `hub` from `concurrency`
/// tasks, each awaiting its acknowledgement before its next; how many were
/// acknowledged.
///
/// # Panics
///
/// When a publish fails.
pub(crate) async fn acknowledged(hub: &Hub, events: usize, concurrency: usize) -> u64 {
    let per_task = events / concurrency;
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let hub = hub.clone();
        tasks.spawn(async move {
            for _ in 0..per_task {
                let event = Event::new().data("x".repeat(64));
                hub.publish(TOPIC, event).await.expect("acknowledged");
            }
        });
    }
    tasks.join_all().await;
    (per_task * concurrency) as u64
}

/// The nearest-rank percentile `p` (0 to 1) of `sorted`.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
