//! A publish under a key the caller gives (issue 16): sent again, it is
//! stored, appended and delivered once, and answered with the first
//! position; the default store forgets keys after its window.

mod publish_key_support;

use std::time::Duration;

use bytes::Bytes;
use sse_engine::hub::{
    Appended, Epoch, Hub, LogLimits, MemoryStore, PublishError, PublishKey, PublishKeyError, Store,
    StoreFuture, StoredEvent,
};
use sse_engine::{Event, LastEventId, Text};

use publish_key_support::{KeyedAppendHook, drain, hub_with_hook, key, publish_keyed};

#[tokio::test(start_paused = true)]
async fn a_retried_keyed_publish_is_delivered_and_replayed_once() {
    let hub = Hub::new();
    let before = hub.head();
    let mut live = hub.subscribe(&["chat"], None).unwrap();
    let first = publish_keyed(&hub, "chat", "msg-1", "hello").await;
    assert!(!first.is_duplicate());
    for _ in 0..3 {
        let again = publish_keyed(&hub, "chat", "msg-1", "hello").await;
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
    let two = publish_keyed(&hub, "chat", "b", "2").await;
    // A plain publish is never a duplicate of a keyed one.
    let three = hub.publish("chat", Event::new().data("3")).await.unwrap();
    assert!(!one.is_duplicate() && !two.is_duplicate());
    assert!(one.position().seq() < two.position().seq());
    assert!(two.position().seq() < three.seq());
    // The key names the publish, whatever its topics and event.
    let again = publish_keyed(&hub, "audit", "a", "other").await;
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
    let first = publish_keyed(&hub, "t", "k", "1").await;
    tokio::time::advance(Duration::from_secs(59)).await;
    let within = publish_keyed(&hub, "t", "k", "1").await;
    assert_eq!(within.position(), first.position());
    tokio::time::advance(Duration::from_secs(1)).await;
    let after = publish_keyed(&hub, "t", "k", "1").await;
    assert!(!after.is_duplicate(), "published anew after the window");
    assert!(after.position().seq() > first.position().seq());

    // By count: the oldest key goes first.
    for name in ["x", "y", "z"] {
        publish_keyed(&hub, "t", name, name).await;
    }
    let z = publish_keyed(&hub, "t", "z", "z").await;
    assert!(z.is_duplicate());
    let x = publish_keyed(&hub, "t", "x", "x").await;
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
    let small = publish_keyed(&hub, "t", "big", "small").await;
    assert!(!small.is_duplicate());

    hub.close(None);
    let closed = hub
        .publish_keyed("t", &key("late"), Event::new().data("late"))
        .await;
    assert!(matches!(closed, Err(PublishError::Closed)));
}

/// Closes a topic of the hub while the default store appends: the hub can
/// then not put the event in its logs.
struct CloseTopic(&'static str);

impl KeyedAppendHook for CloseTopic {
    fn append_keyed<'a>(
        &'a self,
        hub: &'a Hub,
        inner: &'a MemoryStore,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        hub.close_topic(self.0);
        inner.append_keyed(topics, event, key)
    }
}

#[tokio::test(start_paused = true)]
async fn a_key_whose_event_reached_no_log_publishes_when_sent_again() {
    let hub = hub_with_hook(CloseTopic("t"));
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
    assert!(
        matches!(&refused, PublishError::Store(error) if error.is_unsupported()),
        "{refused:?}"
    );
    assert!(!refused.is_outcome_unknown());
    assert!(refused.to_string().contains("deduplicate"), "{refused}");
    // Not a failure a retry could get past: 501, and no Retry-After.
    assert_eq!(refused.status(), http::StatusCode::NOT_IMPLEMENTED);
    assert_eq!(refused.retry_after(), None);
    assert!(refused.client_message().contains("nothing was published"));
    assert!(drain(&mut live).await.is_empty());
}
