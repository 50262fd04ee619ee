//! A hub over a store that keeps more than the in-memory log: ids come from
//! the store, old cursors are replayed from it, and its failures are reported.

mod scripted;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use scripted::{decode, ready};
use sse_engine::hub::{
    Epoch, Hub, LogLimits, Position, PublishError, Store, StoreError, StoreFuture, StoredEvent,
};
use sse_engine::{EncodedEvent, Event, LastEventId, Text};

/// Keeps every event forever, like a durable log would; can be told to fail.
#[derive(Default)]
struct ArchiveStore {
    events: Mutex<Vec<(Vec<Text>, u64, Bytes)>>,
    fail_append: AtomicBool,
    fail_replay: AtomicBool,
    /// How many replays failed.
    failed_replays: AtomicUsize,
    /// Gives back an already used sequence number, as a broken store would.
    repeat_seq: AtomicBool,
}

impl Store for ArchiveStore {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(0xa5c)
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            if self.fail_append.load(Ordering::SeqCst) {
                return Err(StoreError::new("disk full"));
            }
            let mut events = self.events.lock().unwrap();
            let last = events.last().map_or(0, |(_, seq, _)| *seq);
            let seq = if self.repeat_seq.load(Ordering::SeqCst) {
                last
            } else {
                last + 1
            };
            events.push((topics.to_vec(), seq, event.clone()));
            Ok(seq)
        })
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(async move {
            tokio::task::yield_now().await; // a real store answers later
            if self.fail_replay.load(Ordering::SeqCst) {
                self.failed_replays.fetch_add(1, Ordering::SeqCst);
                return Err(StoreError::new("connection reset"));
            }
            let events = self.events.lock().unwrap();
            Ok(Some(
                events
                    .iter()
                    .filter(|(topics, seq, _)| {
                        topics.contains(topic) && *seq > after && *seq < before
                    })
                    .map(|(_, seq, body)| StoredEvent {
                        seq: *seq,
                        event: body.clone(),
                    })
                    .take(limit)
                    .collect(),
            ))
        })
    }
}

fn decoded(events: &[EncodedEvent]) -> Vec<(String, String)> {
    decode(events)
        .iter()
        .map(|e| (e.event_type().to_owned(), e.data().to_owned()))
        .collect()
}

async fn hub_with_archive(store: ArchiveStore) -> (Hub, Vec<Position>) {
    let hub = Hub::builder()
        .store(store)
        .log_limits(LogLimits::new().max_events(3))
        .build();
    let mut positions = Vec::new();
    for n in 1..=10 {
        let topic = if n % 2 == 0 { "even" } else { "odd" };
        positions.push(
            hub.publish_to(
                &[topic, "all"],
                Event::new().event(topic).data(format!("{n}")),
            )
            .await
            .unwrap(),
        );
    }
    (hub, positions)
}

#[tokio::test]
async fn ids_come_from_the_store() {
    let (hub, positions) = hub_with_archive(ArchiveStore::default()).await;
    assert_eq!(hub.epoch(), Epoch::from_bits(0xa5c));
    assert_eq!(positions[9].to_string(), "000000000a5c-10");
}

#[tokio::test]
async fn a_cursor_older_than_the_log_is_replayed_from_the_store_without_a_gap() {
    let (hub, positions) = hub_with_archive(ArchiveStore::default()).await;
    let cursor = LastEventId::parse(positions[1].to_string().as_bytes()).unwrap();
    let mut subscription = hub.subscribe(&["all"], cursor).unwrap();
    let events: Vec<_> = subscription.by_ref().take(8).collect().await;
    let data: Vec<_> = decoded(&events).into_iter().map(|(_, data)| data).collect();
    assert_eq!(data, ["3", "4", "5", "6", "7", "8", "9", "10"]);
    assert_eq!(hub.stats().gaps, 0);
    assert!(ready(&mut subscription).is_empty());
    hub.publish("all", Event::new().data("11")).await.unwrap();
    assert_eq!(decoded(&ready(&mut subscription))[0].1, "11");
}

#[tokio::test]
async fn replayed_events_go_through_the_filter() {
    let (hub, positions) = hub_with_archive(ArchiveStore::default()).await;
    let cursor = LastEventId::parse(positions[0].to_string().as_bytes()).unwrap();
    let subscription = hub
        .subscribe(&["all"], cursor)
        .unwrap()
        .filter(|event| event.event_type() == Some("even"));
    let events: Vec<_> = subscription.take(5).collect().await;
    let data: Vec<_> = decoded(&events).into_iter().map(|(_, data)| data).collect();
    assert_eq!(data, ["2", "4", "6", "8", "10"]);
}

#[tokio::test(start_paused = true)]
async fn a_store_that_cannot_replay_leads_to_a_gap_signal_after_retries() {
    let store = ArchiveStore::default();
    store.fail_replay.store(true, Ordering::SeqCst);
    let (hub, positions) = hub_with_archive(store).await;
    let cursor = LastEventId::parse(positions[1].to_string().as_bytes()).unwrap();
    let events: Vec<_> = hub
        .subscribe(&["all"], cursor)
        .unwrap()
        .take(4)
        .collect()
        .await;
    let events = decoded(&events);
    assert_eq!(events[0].0, "gap");
    let data: Vec<_> = events[1..].iter().map(|(_, data)| data.as_str()).collect();
    assert_eq!(data, ["8", "9", "10"]);
}

#[tokio::test(start_paused = true)]
async fn a_replay_that_fails_for_a_moment_is_tried_again_and_loses_nothing() {
    let store = std::sync::Arc::new(ArchiveStore::default());
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(3))
        .build();
    let mut positions = Vec::new();
    for n in 1..=10 {
        positions.push(
            hub.publish("t", Event::new().data(format!("{n}")))
                .await
                .unwrap(),
        );
    }
    store.fail_replay.store(true, Ordering::SeqCst);
    let cursor = LastEventId::parse(positions[1].to_string().as_bytes()).unwrap();
    let mut subscription = hub.subscribe(&["t"], cursor).unwrap();
    // The store answers late: polled until its first answer, a failure.
    for _ in 0..10 {
        assert!(ready(&mut subscription).is_empty(), "nothing replayed yet");
        if store.failed_replays.load(Ordering::SeqCst) > 0 {
            break;
        }
    }
    assert_eq!(
        store.failed_replays.load(Ordering::SeqCst),
        1,
        "the replay failed once"
    );
    // The store comes back before the second attempt (100 ms later).
    store.fail_replay.store(false, Ordering::SeqCst);
    // Time is paused: were the replay not tried again, this would fail at
    // once instead of waiting for ever.
    let events: Vec<_> =
        tokio::time::timeout(Duration::from_secs(60), subscription.take(8).collect())
            .await
            .expect("the replay is tried again");
    let data: Vec<_> = decoded(&events).into_iter().map(|(_, data)| data).collect();
    assert_eq!(data, ["3", "4", "5", "6", "7", "8", "9", "10"]);
    assert_eq!(hub.stats().gaps, 0);
    assert_eq!(store.failed_replays.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_append_publishes_nothing() {
    let store = ArchiveStore::default();
    store.fail_append.store(true, Ordering::SeqCst);
    let hub = Hub::builder().store(store).build();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    let error = hub
        .publish("t", Event::new().data("lost?"))
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::Store(_)));
    assert_eq!(
        error.to_string(),
        "cannot publish: event store failed: disk full"
    );
    assert!(ready(&mut subscription).is_empty());
    assert_eq!(hub.stats().published, 0);
}

#[tokio::test]
async fn a_store_that_repeats_a_sequence_number_is_refused() {
    let store = ArchiveStore::default();
    store.repeat_seq.store(true, Ordering::SeqCst);
    let hub = Hub::builder().store(store).build();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    // The first append of this store gives 0, which is not above 0.
    assert!(matches!(
        hub.publish("t", Event::new().data("x")).await,
        Err(PublishError::Store(_))
    ));
    assert!(ready(&mut subscription).is_empty());
}

#[tokio::test]
async fn a_replay_merges_with_the_other_topics_and_skips_nothing() {
    // Found in review: replaying "a" used to skip "b1", still in b's log.
    let hub = Hub::builder()
        .store(ArchiveStore::default())
        .log_limits(LogLimits::new().max_events(2))
        .build();
    hub.publish("b", Event::new().data("b1")).await.unwrap();
    for n in 2..=5 {
        hub.publish("a", Event::new().data(format!("a{n}")))
            .await
            .unwrap();
    }
    let zero = Position::new(hub.epoch(), 0).to_string();
    let events: Vec<_> = hub
        .subscribe(&["a", "b"], LastEventId::parse(zero.as_bytes()).unwrap())
        .unwrap()
        .take(5)
        .collect()
        .await;
    let data: Vec<_> = decoded(&events).into_iter().map(|(_, data)| data).collect();
    assert_eq!(data, ["b1", "a2", "a3", "a4", "a5"]);
    assert_eq!(hub.stats().gaps, 0);
}

#[tokio::test]
async fn replayed_events_are_filtered_as_events_of_their_own_topic() {
    let hub = Hub::builder()
        .store(ArchiveStore::default())
        .log_limits(LogLimits::new().max_events(1))
        .build();
    hub.publish("b", Event::new().data("b1")).await.unwrap();
    hub.publish("b", Event::new().data("b2")).await.unwrap();
    let zero = Position::new(hub.epoch(), 0).to_string();
    let events: Vec<_> = hub
        .subscribe(&["a", "b"], LastEventId::parse(zero.as_bytes()).unwrap())
        .unwrap()
        .filter(|event| event.topic() == "b")
        .take(2)
        .collect()
        .await;
    let data: Vec<_> = decoded(&events).into_iter().map(|(_, data)| data).collect();
    assert_eq!(data, ["b1", "b2"]);
}

#[tokio::test]
async fn a_long_replay_comes_in_bounded_rounds_and_misses_nothing() {
    // Rounds of at most one log's worth (3 sequence numbers here): memory per
    // subscriber stays bounded however old the cursor is.
    let hub = Hub::builder()
        .store(ArchiveStore::default())
        .log_limits(LogLimits::new().max_events(3))
        .build();
    for n in 1..=50 {
        let topic = if n % 3 == 0 { "b" } else { "a" };
        hub.publish(topic, Event::new().data(format!("{n}")))
            .await
            .unwrap();
    }
    let zero = Position::new(hub.epoch(), 0).to_string();
    let events: Vec<_> = hub
        .subscribe(&["a", "b"], LastEventId::parse(zero.as_bytes()).unwrap())
        .unwrap()
        .take(50)
        .collect()
        .await;
    let data: Vec<String> = decoded(&events).into_iter().map(|(_, data)| data).collect();
    let expected: Vec<String> = (1..=50).map(|n| n.to_string()).collect();
    assert_eq!(data, expected);
    assert_eq!(hub.stats().gaps, 0);
}

/// A store whose append takes a while, as a remote one does.
struct SlowStore(ArchiveStore);

impl Store for SlowStore {
    fn epoch(&self) -> Epoch {
        self.0.epoch()
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.0.append(topics, event).await
        })
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        self.0.replay(topic, after, before, limit)
    }
}

#[tokio::test]
async fn a_publish_that_a_close_overtakes_is_reported_not_acknowledged() {
    // Found in review: it used to return Ok for an event nobody could read.
    let hub = Hub::builder()
        .store(SlowStore(ArchiveStore::default()))
        .build();
    hub.publish("t", Event::new().data("first")).await.unwrap();
    let publishing = tokio::spawn({
        let hub = hub.clone();
        async move { hub.publish("t", Event::new().data("late")).await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    hub.close_topic("t");
    assert!(matches!(
        publishing.await.unwrap(),
        Err(PublishError::Closed)
    ));
}
