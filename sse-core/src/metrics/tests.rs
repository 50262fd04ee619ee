//! The figures recorded for real traffic, read back through
//! `metrics-util`'s debugging recorder, installed for the test's thread
//! only. Its snapshots drain what they read: a counter reads what was
//! counted since the last snapshot, and so does a gauge (its moves since).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{StreamExt, stream};
use http_body_util::BodyExt;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tokio::sync::mpsc;

use super::*;
use crate::hub::{
    Epoch, FedEvent, Feed, FeedItem, Hub, Store, StoreFuture, StoredEvent, SubscribeError,
    Subscription,
};
use crate::{Event, KeepAlive, LastEventId, SseBody, Text};

/// Runs `test` on a current-thread runtime with a recorder of its own.
fn recorded<F: Future<Output = ()>>(test: impl FnOnce(Snapshotter) -> F) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(test(snapshotter));
    });
}

/// Every value of the snapshot as `name{label=value}` (or `name`) → value.
fn read(snapshotter: &Snapshotter) -> std::collections::HashMap<String, f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            let name = match labels.is_empty() {
                true => key.name().to_string(),
                false => format!("{}{{{}}}", key.name(), labels.join(",")),
            };
            let value = match value {
                DebugValue::Counter(n) => n as f64,
                DebugValue::Gauge(n) => n.into_inner(),
                DebugValue::Histogram(values) => values.len() as f64,
            };
            (name, value)
        })
        .collect()
}

/// The whole body, as a client reads it.
async fn all<B>(body: B) -> bytes::Bytes
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    body.collect().await.unwrap().to_bytes()
}

fn get(values: &std::collections::HashMap<String, f64>, name: &str) -> f64 {
    values.get(name).copied().unwrap_or(0.0)
}

#[test]
fn hub_figures_follow_the_traffic() {
    recorded(|snapshotter| async move {
        let hub = Hub::builder().max_subscribers(3).build();
        let mut first = hub.subscribe(&["chat"], None).unwrap();
        let mut second = hub.subscribe(&["chat"], None).unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(
                hub.publish("chat", Event::new().data(format!("{n}")))
                    .await
                    .unwrap(),
            );
        }
        for _ in 0..3 {
            first.next().await.unwrap();
            second.next().await.unwrap();
        }
        // Resumes after the first event: two replayed, then a foreign and
        // an unknown cursor, each a gap.
        let cursor = LastEventId::parse(ids[0].to_string().as_bytes()).unwrap();
        let mut resumed = hub.subscribe(&["chat"], cursor).unwrap();
        resumed.next().await.unwrap();
        resumed.next().await.unwrap();
        assert!(matches!(
            hub.subscribe(&["chat"], None),
            Err(SubscribeError::Full { topic: None, .. })
        ));
        let values = read(&snapshotter);
        assert_eq!(get(&values, EVENTS_PUBLISHED), 3.0);
        assert_eq!(get(&values, EVENTS_DELIVERED), 8.0);
        assert_eq!(get(&values, EVENTS_REPLAYED), 2.0);
        assert_eq!(get(&values, HUB_SUBSCRIBERS), 3.0);
        assert_eq!(
            get(&values, "sse_hub_subscriptions_refused_total{scope=hub}"),
            1.0
        );
        drop((first, second, resumed));

        let foreign = LastEventId::parse(b"000000000001-1").unwrap();
        let unknown = LastEventId::parse(b"nonsense").unwrap();
        for cursor in [foreign, unknown] {
            let mut gapped = hub.subscribe(&["chat"], cursor).unwrap();
            assert!(
                gapped
                    .next()
                    .await
                    .unwrap()
                    .as_bytes()
                    .starts_with(b"event: gap\n")
            );
        }
        let values = read(&snapshotter);
        assert_eq!(
            get(&values, HUB_SUBSCRIBERS),
            -3.0,
            "three left, none is alive"
        );
        assert_eq!(get(&values, "sse_hub_gaps_total{reason=foreign}"), 1.0);
        assert_eq!(get(&values, "sse_hub_gaps_total{reason=unknown}"), 1.0);
        assert_eq!(get(&values, "sse_hub_gaps_total{reason=evicted}"), 0.0);
        assert_eq!(
            get(&values, EVENTS_DELIVERED),
            0.0,
            "gap signals are not deliveries"
        );
    });
}

#[test]
fn evicted_and_lagged_gaps_are_counted_by_reason() {
    recorded(|snapshotter| async move {
        let hub = Hub::builder()
            .log_limits(crate::hub::LogLimits::new().max_events(2))
            .build();
        let mut slow = hub.subscribe(&["t"], None).unwrap();
        let first = hub.publish("t", Event::new().data("1")).await.unwrap();
        for n in 2..=5 {
            hub.publish("t", Event::new().data(format!("{n}")))
                .await
                .unwrap();
        }
        assert!(
            slow.next()
                .await
                .unwrap()
                .as_bytes()
                .starts_with(b"event: gap\n")
        );
        let cursor = LastEventId::parse(first.to_string().as_bytes()).unwrap();
        let mut late = hub.subscribe(&["t"], cursor).unwrap();
        assert!(
            late.next()
                .await
                .unwrap()
                .as_bytes()
                .starts_with(b"event: gap\n")
        );
        let values = read(&snapshotter);
        assert_eq!(get(&values, "sse_hub_gaps_total{reason=lagged}"), 1.0);
        assert_eq!(get(&values, "sse_hub_gaps_total{reason=evicted}"), 1.0);
    });
}

#[test]
fn bodies_count_bytes_and_their_end() {
    recorded(|snapshotter| async move {
        let events = stream::iter([Event::new().data("one"), Event::new().data("two")]);
        let bytes = all(SseBody::from_infallible_stream(events)).await;
        let values = read(&snapshotter);
        assert_eq!(
            get(&values, "sse_written_bytes_total{encoding=identity}"),
            bytes.len() as f64
        );
        assert_eq!(get(&values, UNCOMPRESSED_BYTES), 0.0, "nothing compressed");
        assert_eq!(
            get(&values, "sse_streams_ended_total{reason=complete}"),
            1.0
        );
        assert_eq!(get(&values, STREAMS_OPEN), 0.0, "opened and closed");

        let failing = stream::iter([Ok(Event::new().data("x")), Err("broken")]);
        assert!(SseBody::new(failing).collect().await.is_err());
        let pending = stream::pending::<Result<Event, Infallible>>();
        let mut idle = Box::pin(
            SseBody::new(pending).keep_alive(KeepAlive::new().interval(Duration::from_secs(1))),
        );
        for _ in 0..2 {
            idle.frame().await.unwrap().unwrap();
        }
        let values = read(&snapshotter);
        assert_eq!(get(&values, STREAMS_OPEN), 1.0);
        assert_eq!(get(&values, KEEP_ALIVE_COMMENTS), 2.0);
        assert_eq!(get(&values, "sse_streams_ended_total{reason=error}"), 1.0);
        drop(idle);
        count_stalled_stream();
        let values = read(&snapshotter);
        assert_eq!(get(&values, STREAMS_OPEN), -1.0);
        assert_eq!(
            get(&values, "sse_streams_ended_total{reason=client_gone}"),
            1.0
        );
        assert_eq!(get(&values, "sse_streams_ended_total{reason=stalled}"), 1.0);
    });
}

#[test]
fn hub_streams_end_for_the_hub_reason() {
    recorded(|snapshotter| async move {
        let hub = Hub::new();
        let closed = hub.subscribe(&["a"], None).unwrap().into_body();
        let timed = hub
            .subscribe(&["b"], None)
            .unwrap()
            .max_lifetime(Duration::from_secs(10))
            .into_body();
        let timed = tokio::spawn(timed.collect());
        tokio::time::sleep(Duration::from_secs(11)).await;
        timed.await.unwrap().unwrap();
        hub.close_topic("a");
        closed.collect().await.unwrap();
        let values = read(&snapshotter);
        assert_eq!(
            get(&values, "sse_streams_ended_total{reason=lifetime}"),
            1.0
        );
        assert_eq!(
            get(&values, "sse_streams_ended_total{reason=shutdown}"),
            1.0
        );
        assert_eq!(
            get(&values, "sse_streams_ended_total{reason=complete}"),
            0.0
        );
    });
}

#[test]
fn a_lagging_subscriber_closed_by_policy_is_a_lag_policy_end() {
    recorded(|snapshotter| async move {
        let hub = Hub::builder()
            .log_limits(crate::hub::LogLimits::new().max_events(2))
            .lag_policy(crate::hub::LagPolicy::Close)
            .build();
        let body = hub.subscribe(&["t"], None).unwrap().into_body();
        for n in 0..5 {
            hub.publish("t", Event::new().data(format!("{n}")))
                .await
                .unwrap();
        }
        body.collect().await.unwrap();
        let values = read(&snapshotter);
        assert_eq!(
            get(&values, "sse_streams_ended_total{reason=lag_policy}"),
            1.0
        );
        assert_eq!(
            get(&values, "sse_hub_gaps_total{reason=lagged}"),
            0.0,
            "no signal sent"
        );
    });
}

#[cfg(feature = "gzip")]
#[test]
fn compressed_bodies_count_both_sides_of_the_compressor() {
    use crate::compression::Compression;

    recorded(|snapshotter| async move {
        let events = || stream::iter((0..20).map(|n| Event::new().data(format!("event {n}"))));
        let plain = all(SseBody::from_infallible_stream(events())).await;
        read(&snapshotter);
        let mut headers = http::HeaderMap::new();
        headers.insert("accept-encoding", "gzip".parse().unwrap());
        let compressed = all(SseBody::from_infallible_stream(events())
            .compression(Compression::from_accept_encoding(&headers)))
        .await;
        let values = read(&snapshotter);
        assert_eq!(
            get(&values, "sse_written_bytes_total{encoding=gzip}"),
            compressed.len() as f64
        );
        assert_eq!(
            get(&values, "sse_written_bytes_total{encoding=identity}"),
            0.0
        );
        assert_eq!(get(&values, UNCOMPRESSED_BYTES), plain.len() as f64);
    });
}

/// A shared store whose feed the test writes (`FeedItem`s sent on a
/// channel), and which has nothing to replay: what the feed reports lost
/// is gone.
struct FedStore {
    feed: Mutex<Option<mpsc::UnboundedReceiver<FeedItem>>>,
}

impl Store for FedStore {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(7)
    }

    fn append<'a>(&'a self, _topics: &'a [Text], _event: &'a bytes::Bytes) -> StoreFuture<'a, u64> {
        unreachable!("the test publishes through the feed")
    }

    fn replay<'a>(
        &'a self,
        _topic: &'a Text,
        _after: u64,
        _before: u64,
        _limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    fn feed(&self) -> Option<Feed> {
        let mut receiver = self.feed.lock().unwrap().take()?;
        Some(Box::pin(stream::poll_fn(move |cx| receiver.poll_recv(cx))))
    }
}

/// The feed's report of events `seqs` of topic `t`, each `data: <seq>`.
fn fed(seqs: std::ops::RangeInclusive<u64>) -> FeedItem {
    let through = *seqs.end();
    let events = seqs
        .map(|seq| FedEvent {
            seq,
            topic: Text::from_static("t"),
            event: bytes::Bytes::from(format!("data: {seq}\n\n")),
        })
        .collect();
    FeedItem::Events { events, through }
}

/// What `subscription` has to give now (until it would wait): each event's
/// data, a gap signal as `gap <its data>`.
async fn ready_now(subscription: &mut Subscription) -> Vec<String> {
    let mut decoder = crate::decode::Decoder::new();
    // Paused time: the timeout passes only once every task is idle.
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_secs(1), subscription.next()).await
    {
        decoder.push(event.as_bytes()).unwrap();
    }
    std::iter::from_fn(|| decoder.next_event())
        .map(|event| match event.event_type() {
            "gap" => format!("gap {}", event.data()),
            _ => event.data().to_owned(),
        })
        .collect()
}

#[test]
fn a_store_that_lost_events_is_counted_as_lost_gaps() {
    recorded(|snapshotter| async move {
        let (feed, receiver) = mpsc::unbounded_channel();
        let store = FedStore {
            feed: Mutex::new(Some(receiver)),
        };
        let hub = Hub::builder().store(store).topic("t").build();
        let mut ahead = hub.subscribe(&["t"], None).unwrap();
        let mut behind = hub.subscribe(&["t"], None).unwrap();
        feed.send(fed(1..=3)).unwrap();
        assert_eq!(ready_now(&mut ahead).await, ["1", "2", "3"]);
        assert_eq!(ready_now(&mut behind).await, ["1", "2", "3"]);
        feed.send(fed(4..=5)).unwrap();
        assert_eq!(ready_now(&mut ahead).await, ["4", "5"]);

        // 6..=10 never reported, and gone from the store; then 11.
        feed.send(FeedItem::Lost {
            topic: Text::from_static("t"),
            through: 10,
        })
        .unwrap();
        feed.send(fed(11..=11)).unwrap();
        let lost = r#"gap {"reason":"lost","lastEventId":""}"#;
        let got_ahead = ready_now(&mut ahead).await;
        let got_behind = ready_now(&mut behind).await;
        assert_eq!(got_ahead, [lost, "11"]);
        assert_eq!(got_behind, ["4", "5", lost, "11"]);
        // A subscriber from after the loss is behind nothing.
        let mut fresh = hub.subscribe(&["t"], None).unwrap();
        feed.send(fed(12..=12)).unwrap();
        assert_eq!(ready_now(&mut fresh).await, ["12"]);

        let signals = [got_ahead, got_behind]
            .iter()
            .flatten()
            .filter(|event| event.starts_with("gap "))
            .count();
        let values = read(&snapshotter);
        assert_eq!(signals, 2);
        assert_eq!(
            get(&values, "sse_hub_gaps_total{reason=lost}"),
            signals as f64
        );
        for reason in ["evicted", "lagged", "foreign", "unknown"] {
            assert_eq!(
                get(&values, &format!("sse_hub_gaps_total{{reason={reason}}}")),
                0.0,
                "{reason}"
            );
        }
        assert_eq!(hub.stats().gaps, signals as u64);
        assert_eq!(hub.stats().lagged, 0);
        assert_eq!(get(&values, EVENTS_PUBLISHED), 0.0, "published elsewhere");
        // Six each to `ahead` and `behind` (gap signals aside), one to `fresh`.
        assert_eq!(get(&values, EVENTS_DELIVERED), 13.0);
    });
}
