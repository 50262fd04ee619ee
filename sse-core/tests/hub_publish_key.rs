//! A publish under a key the caller gives (issue 16): sent again, it is
//! stored, appended and delivered once, and answered with the first
//! position; the default store forgets keys after its window.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sse_engine::hub::{
    Appended, Epoch, Hub, LogLimits, MemoryStore, PublishError, PublishKey, PublishKeyError, Store,
    StoreFuture, StoredEvent, Subscription,
};
use sse_engine::{EncodedEvent, Event, LastEventId, Text};

fn key(text: &str) -> PublishKey {
    PublishKey::try_from(text).unwrap()
}

/// The data line of an encoded event.
fn data(event: &EncodedEvent) -> String {
    let text = std::str::from_utf8(event.as_bytes()).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or_default()
        .to_owned()
}

/// Every event the subscription has now (the clock is paused: waiting
/// a second of it costs nothing).
async fn drain(subscription: &mut Subscription) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_secs(1), subscription.next()).await
    {
        seen.push(data(&event));
    }
    seen
}

#[tokio::test(start_paused = true)]
async fn a_retried_keyed_publish_is_delivered_and_replayed_once() {
    let hub = Hub::new();
    let before = hub.head();
    let mut live = hub.subscribe(&["chat"], None).unwrap();
    let first = hub
        .publish_keyed("chat", &key("msg-1"), Event::new().data("hello"))
        .await
        .unwrap();
    assert!(!first.is_duplicate());
    for _ in 0..3 {
        let again = hub
            .publish_keyed("chat", &key("msg-1"), Event::new().data("hello"))
            .await
            .unwrap();
        assert_eq!(again.position(), first.position());
        assert!(again.is_duplicate());
    }
    assert_eq!(hub.head(), first.position(), "nothing appended after it");
    assert_eq!(hub.topic_stats("chat").unwrap().events, 1);
    assert_eq!(hub.stats().published, 1);
    assert_eq!(drain(&mut live).await, ["hello"]);

    // Replayed once to a client that resumes from before it.
    let cursor = LastEventId::parse(before.to_string().as_bytes()).unwrap();
    let mut resumed = hub.subscribe(&["chat"], cursor).unwrap();
    assert_eq!(drain(&mut resumed).await, ["hello"]);
}

#[tokio::test(start_paused = true)]
async fn different_keys_are_different_events() {
    let hub = Hub::new();
    let mut live = hub.subscribe(&["chat", "audit"], None).unwrap();
    let one = hub
        .publish_keyed_to(&["chat", "audit"], &key("a"), Event::new().data("1"))
        .await
        .unwrap();
    let two = hub
        .publish_keyed("chat", &key("b"), Event::new().data("2"))
        .await
        .unwrap();
    // A plain publish is never a duplicate of a keyed one.
    let three = hub.publish("chat", Event::new().data("3")).await.unwrap();
    assert!(!one.is_duplicate() && !two.is_duplicate());
    assert!(one.position().seq() < two.position().seq());
    assert!(two.position().seq() < three.seq());
    // The key names the publish, whatever its topics and event.
    let again = hub
        .publish_keyed("audit", &key("a"), Event::new().data("other"))
        .await
        .unwrap();
    assert_eq!(again.position(), one.position());
    assert_eq!(drain(&mut live).await, ["1", "2", "3"]);
}

#[test]
fn invalid_keys_are_refused() {
    assert_eq!(PublishKey::try_from(""), Err(PublishKeyError::Empty));
    assert_eq!(
        PublishKey::try_from("x".repeat(129)),
        Err(PublishKeyError::TooLong { len: 129 })
    );
    assert!(matches!(
        PublishKey::try_from("tab\there"),
        Err(PublishKeyError::InvalidByte { index: 3, .. })
    ));
    assert!(PublishKey::try_from("x".repeat(128)).is_ok());
    let message = PublishKey::try_from("a b").unwrap_err().to_string();
    assert!(message.contains("visible ASCII"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn the_memory_store_forgets_keys_after_its_window() {
    let store = MemoryStore::new().key_window(Duration::from_secs(60), 2);
    let hub = Hub::builder().store(store).build();
    let first = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(59)).await;
    let within = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await
        .unwrap();
    assert_eq!(within.position(), first.position());
    tokio::time::advance(Duration::from_secs(1)).await;
    let after = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await
        .unwrap();
    assert!(!after.is_duplicate(), "published anew after the window");
    assert!(after.position().seq() > first.position().seq());

    // By count: the oldest key goes first.
    for name in ["x", "y", "z"] {
        hub.publish_keyed("t", &key(name), Event::new().data(name))
            .await
            .unwrap();
    }
    let z = hub
        .publish_keyed("t", &key("z"), Event::new().data("z"))
        .await
        .unwrap();
    assert!(z.is_duplicate());
    let x = hub
        .publish_keyed("t", &key("x"), Event::new().data("x"))
        .await
        .unwrap();
    assert!(!x.is_duplicate(), "x was the oldest of three, over two");
}

#[tokio::test(start_paused = true)]
async fn a_refused_keyed_publish_does_not_use_the_key() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_event_bytes(200))
        .build();
    let large = Event::new().data("x".repeat(300));
    let refused = hub.publish_keyed("t", &key("big"), large).await;
    assert!(matches!(refused, Err(PublishError::TooLarge { .. })));
    let small = hub
        .publish_keyed("t", &key("big"), Event::new().data("small"))
        .await
        .unwrap();
    assert!(!small.is_duplicate());

    hub.close(None);
    let closed = hub
        .publish_keyed("t", &key("late"), Event::new().data("late"))
        .await;
    assert!(matches!(closed, Err(PublishError::Closed)));
}

/// The default store, which closes a topic while it appends: the hub can
/// then not put the event in its logs.
struct ClosingStore {
    inner: MemoryStore,
    hub: Arc<OnceLock<Hub>>,
    topic: &'static str,
}

impl Store for ClosingStore {
    fn epoch(&self) -> Epoch {
        self.inner.epoch()
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        self.inner.append(topics, event)
    }

    fn append_keyed<'a>(
        &'a self,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        if let Some(hub) = self.hub.get() {
            hub.close_topic(self.topic);
        }
        self.inner.append_keyed(topics, event, key)
    }

    fn forget_key(&self, key: &PublishKey, seq: u64) {
        self.inner.forget_key(key, seq);
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        self.inner.replay(topic, after, before, limit)
    }
}

#[tokio::test(start_paused = true)]
async fn a_key_whose_event_reached_no_log_publishes_when_sent_again() {
    let slot = Arc::new(OnceLock::new());
    let hub = Hub::builder()
        .store(ClosingStore {
            inner: MemoryStore::new(),
            hub: slot.clone(),
            topic: "t",
        })
        .build();
    let _ = slot.set(hub.clone());
    let _first_topic = hub.subscribe(&["t"], None).unwrap();
    let closed = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await;
    assert!(matches!(closed, Err(PublishError::Closed)), "{closed:?}");

    // The name makes a new topic; the key was forgotten, so the event is
    // published, not answered with a position nobody received.
    let mut live = hub.subscribe(&["u"], None).unwrap();
    let again = hub
        .publish_keyed_to(&["u"], &key("k"), Event::new().data("1"))
        .await
        .unwrap();
    assert!(!again.is_duplicate());
    assert_eq!(drain(&mut live).await, ["1"]);
}

/// A store of its own that knows nothing of keys.
struct PlainStore(MemoryStore);

impl Store for PlainStore {
    fn epoch(&self) -> Epoch {
        self.0.epoch()
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        self.0.append(topics, event)
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

#[tokio::test(start_paused = true)]
async fn a_store_that_cannot_deduplicate_refuses_keyed_publishes() {
    let hub = Hub::builder().store(PlainStore(MemoryStore::new())).build();
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let refused = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await
        .unwrap_err();
    assert!(matches!(refused, PublishError::Store(_)), "{refused:?}");
    assert!(!refused.is_outcome_unknown());
    assert!(refused.to_string().contains("deduplicate"), "{refused}");
    assert!(drain(&mut live).await.is_empty());
}
