//! Review of publish keys (issue 16): concurrent publishes under one key,
//! a key forgotten while a duplicate waits, and the default store's window
//! in count and time.

mod publish_key_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use sse_engine::hub::{Appended, Hub, MemoryStore, PublishError, PublishKey, Store, StoreFuture};
use sse_engine::{Event, Text};

use publish_key_support::{KeyedAppendHook, drain, hub_with_hook, key, publish_keyed};

/// Slow to answer once the default store recorded a key (a second of
/// paused time); on its first keyed append it may close a topic of the hub
/// first, so that the hub cannot commit it.
struct Slow {
    close_on_first: Option<&'static str>,
    closed: AtomicBool,
}

impl Slow {
    fn new(close_on_first: Option<&'static str>) -> Self {
        Self {
            close_on_first,
            closed: AtomicBool::new(false),
        }
    }
}

impl KeyedAppendHook for Slow {
    fn append_keyed<'a>(
        &'a self,
        hub: &'a Hub,
        inner: &'a MemoryStore,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        Box::pin(async move {
            let appended = inner.append_keyed(topics, event, key).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Some(topic) = self.close_on_first {
                if !self.closed.swap(true, Ordering::SeqCst) {
                    hub.close_topic(topic);
                }
            }
            Ok(appended)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_publishes_under_one_key_store_one_and_answer_after_it_is_visible() {
    let hub = hub_with_hook(Slow::new(None));
    let mut live = hub.subscribe(&["chat"], None).unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            let published = publish_keyed(&hub, "chat", "same", &format!("try {i}")).await;
            // Visible when answered: a client resuming from it at once
            // must find it in the log.
            assert!(
                hub.head().seq() >= published.position().seq(),
                "answered before it was committed"
            );
            published
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let originals = answers.iter().filter(|a| !a.is_duplicate()).count();
    assert_eq!(originals, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| a.position() == answers[0].position())
    );
    assert_eq!(hub.stats().published, 1);
    assert_eq!(drain(&mut live).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_waiting_on_a_key_that_is_then_forgotten_publishes_anew() {
    let hub = hub_with_hook(Slow::new(Some("t")));
    let mut other = hub.subscribe(&["u"], None).unwrap();

    let first = {
        let hub = hub.clone();
        tokio::spawn(async move {
            hub.publish_keyed("t", &key("k"), Event::new().data("1"))
                .await
        })
    };
    tokio::task::yield_now().await;
    // Sent while the first holds the key and cannot commit it.
    let second = {
        let hub = hub.clone();
        tokio::spawn(async move {
            hub.publish_keyed("u", &key("k"), Event::new().data("2"))
                .await
        })
    };
    let first = first.await.unwrap();
    assert!(matches!(first, Err(PublishError::Closed)), "{first:?}");
    let second = second.await.unwrap().unwrap();
    assert!(!second.is_duplicate(), "answered with a forgotten position");
    assert_eq!(drain(&mut other).await, ["2"]);
}

#[tokio::test(start_paused = true)]
async fn the_default_window_holds_the_newest_ten_thousand_keys() {
    let hub = Hub::new();
    for i in 0..=10_000 {
        let published = publish_keyed(&hub, "t", &format!("k-{i}"), "x").await;
        assert!(!published.is_duplicate());
    }
    // k-0 went first; the newest 10,000 are remembered.
    let newest = publish_keyed(&hub, "t", "k-10000", "x").await;
    assert!(newest.is_duplicate());
    let second_oldest = publish_keyed(&hub, "t", "k-1", "x").await;
    assert!(second_oldest.is_duplicate());
    let oldest = publish_keyed(&hub, "t", "k-0", "x").await;
    assert!(
        !oldest.is_duplicate(),
        "the oldest key outlived the count bound"
    );
    // Storing k-0 again made room by forgetting the then oldest, k-1.
    let evicted = publish_keyed(&hub, "t", "k-1", "x").await;
    assert!(!evicted.is_duplicate());
}

#[tokio::test(start_paused = true)]
async fn a_key_reused_after_the_window_is_a_new_event_and_stays_one() {
    let hub = Hub::new();
    let first = publish_keyed(&hub, "t", "k", "1").await;
    tokio::time::advance(Duration::from_secs(119)).await;
    let within = publish_keyed(&hub, "t", "k", "1").await;
    assert_eq!(
        (within.position(), within.is_duplicate()),
        (first.position(), true)
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    let after = publish_keyed(&hub, "t", "k", "2").await;
    assert!(!after.is_duplicate());
    assert!(after.position().seq() > first.position().seq());
    // The key now names the new event, for a new window.
    tokio::time::advance(Duration::from_secs(60)).await;
    let again = publish_keyed(&hub, "t", "k", "2").await;
    assert_eq!(
        (again.position(), again.is_duplicate()),
        (after.position(), true)
    );
}

#[tokio::test]
async fn the_window_runs_on_real_time_too() {
    // Each assertion holds whatever the machine's pauses: the repeat counts
    // only when answered within the window of the first publish's start
    // (a key is tried again, up to ten times, until one is), and the last
    // publish waits a window past the first one's answer (its key was
    // stored before that answer).
    let window = Duration::from_millis(300);
    let store = MemoryStore::new().key_window(window, 10);
    let hub = Hub::builder().store(store).build();
    let (first, first_answered, key) = 'attempts: {
        for attempt in 0..10 {
            let key = format!("k{attempt}");
            let started = std::time::Instant::now();
            let first = publish_keyed(&hub, "t", &key, "1").await;
            let first_answered = std::time::Instant::now();
            let within = publish_keyed(&hub, "t", &key, "1").await;
            if started.elapsed() < window {
                assert!(within.is_duplicate());
                break 'attempts (first, first_answered, key);
            }
        }
        panic!("no two publishes were answered within {window:?} of each other");
    };
    tokio::time::sleep_until((first_answered + window + Duration::from_millis(50)).into()).await;
    let after = publish_keyed(&hub, "t", &key, "1").await;
    assert!(!after.is_duplicate() && after.position().seq() > first.position().seq());
}

#[tokio::test(start_paused = true)]
async fn a_window_without_a_count_bound_can_forget_a_key() {
    // `usize::MAX`: "no bound on the count", the age alone bounds it.
    let store = MemoryStore::new().key_window(Duration::from_secs(60), usize::MAX);
    let (topics, event) = ([Text::from("t")], Bytes::from_static(b"data: x\n\n"));
    let first = store
        .append_keyed(&topics, &event, &key("k"))
        .await
        .unwrap();
    store.forget_key(&key("k"), first.seq);
    let again = store
        .append_keyed(&topics, &event, &key("k"))
        .await
        .unwrap();
    assert!(!again.duplicate && again.seq > first.seq);
}

/// A publish dropped while its (async, feedless) store appends, as an HTTP
/// server drops a handler whose client went away: the store recorded the
/// key, the hub never committed the event. The client's retry must then
/// reach subscribers, not be answered "duplicate" of an event nobody got.
#[tokio::test(start_paused = true)]
async fn a_keyed_publish_dropped_during_the_append_is_delivered_when_retried() {
    let hub = hub_with_hook(Slow::new(None));
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let dropped = tokio::time::timeout(
        Duration::from_millis(500),
        hub.publish_keyed("t", &key("k"), Event::new().data("1")),
    )
    .await;
    assert!(dropped.is_err(), "dropped while the store answers");
    let retried = publish_keyed(&hub, "t", "k", "1").await;
    assert_eq!(drain(&mut live).await, ["1"], "{retried:?}");
}
