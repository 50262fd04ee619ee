//! What the publish-key tests (`hub_publish_key.rs`,
//! `hub_publish_key_review.rs`) share: keys, a keyed publish that must
//! succeed, reading what a subscription has, and a default store whose keyed
//! appends run a hook that knows the hub (to close a topic, or to be slow,
//! while the hub waits for the append).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sse_engine::hub::{
    Appended, Epoch, Hub, MemoryStore, PublishKey, Published, Store, StoreFuture, StoredEvent,
    Subscription,
};
use sse_engine::{EncodedEvent, Event, Text};

pub(crate) fn key(text: &str) -> PublishKey {
    PublishKey::try_from(text).unwrap()
}

/// `hub.publish_keyed(topic, key, data)`, which must succeed.
pub(crate) async fn publish_keyed(hub: &Hub, topic: &str, key_text: &str, data: &str) -> Published {
    hub.publish_keyed(topic, &key(key_text), Event::new().data(data.to_owned()))
        .await
        .unwrap()
}

/// The data line of an encoded event.
pub(crate) fn data(event: &EncodedEvent) -> String {
    let text = std::str::from_utf8(event.as_bytes()).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap_or_default()
        .to_owned()
}

/// Every event the subscription has now (the clock is paused: waiting
/// a second of it costs nothing).
pub(crate) async fn drain(subscription: &mut Subscription) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_secs(1), subscription.next()).await
    {
        seen.push(data(&event));
    }
    seen
}

/// What a [`HookedStore`] does for a keyed append, in place of the default
/// store's (`inner`), with the hub the store serves.
pub(crate) trait KeyedAppendHook: Send + Sync + 'static {
    fn append_keyed<'a>(
        &'a self,
        hub: &'a Hub,
        inner: &'a MemoryStore,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended>;
}

/// The default store, whose keyed appends go through a [`KeyedAppendHook`];
/// made by [`hub_with_hook`], which hands it its hub.
pub(crate) struct HookedStore<H> {
    inner: MemoryStore,
    hub: Arc<OnceLock<Hub>>,
    hook: H,
}

impl<H: KeyedAppendHook> Store for HookedStore<H> {
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
        let hub = self.hub.get().expect("hub_with_hook sets the hub first");
        self.hook.append_keyed(hub, &self.inner, topics, event, key)
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

/// A hub on a [`HookedStore`] that runs `hook`, known to the store before
/// anything is published.
pub(crate) fn hub_with_hook<H: KeyedAppendHook>(hook: H) -> Hub {
    let slot = Arc::new(OnceLock::new());
    let hub = Hub::builder()
        .store(HookedStore {
            inner: MemoryStore::new(),
            hub: slot.clone(),
            hook,
        })
        .build();
    let _ = slot.set(hub.clone());
    hub
}
