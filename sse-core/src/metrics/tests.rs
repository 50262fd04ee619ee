//! The figures recorded for real traffic, read back through
//! `metrics-util`'s debugging recorder, installed for the test's thread
//! only. Its snapshots drain what they read: a counter reads what was
//! counted since the last snapshot, and so does a gauge (its moves since).

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use futures_util::{StreamExt, stream};
use http_body_util::BodyExt;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use super::*;
use crate::hub::{Hub, SubscribeError};
use crate::{Event, KeepAlive, LastEventId, SseBody};

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
