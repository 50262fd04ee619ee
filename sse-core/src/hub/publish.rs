//! Publishing: [`Hub::publish`] and its keyed form, [`Hub::publish_keyed`],
//! which stores a publish sent again once.

use bytes::{Bytes, BytesMut};

use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::Poll;

use super::shared::Shared;
use super::topic::{Entry, Topic, id_line_len};
use super::{Appended, Hub, Position, PublishError, PublishKey, StoreError};
use crate::{Event, Text};

/// What [`Hub::publish_keyed`] did: the event's position, and whether the
/// key had already been published (then this call published nothing, and
/// the position is the first publish's).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use sse_engine::Event;
/// use sse_engine::hub::{Hub, PublishKey};
///
/// let hub = Hub::new();
/// let key = PublishKey::try_from("k-1").unwrap();
/// let published = hub.publish_keyed("t", &key, Event::new().data("x")).await.unwrap();
/// assert_eq!(published.position(), hub.head());
/// assert!(!published.is_duplicate());
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    position: Position,
    duplicate: bool,
}

impl Published {
    /// The event's position: for a duplicate, the first publish's.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Whether the key had already been published, within the store's
    /// window: nothing was published this time.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate
    }
}

impl Hub {
    /// Publishes `event` to one topic; see [`Hub::publish_to`].
    ///
    /// # Errors
    ///
    /// See [`Hub::publish_to`].
    pub async fn publish(&self, topic: &str, event: Event) -> Result<Position, PublishError> {
        self.publish_to(&[topic], event).await
    }

    /// Publishes `event` to several topics at once, under one id: a subscriber
    /// of more than one of them receives it once. The event is encoded once,
    /// with the id the hub gives it (an id set on the event is replaced), and
    /// the same bytes go to every subscriber. Publishing never waits for a
    /// subscriber.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use sse_engine::Event;
    /// use sse_engine::hub::Hub;
    ///
    /// let hub = Hub::new();
    /// let position = hub
    ///     .publish_to(&["orders", "audit"], Event::new().data("order 17 paid"))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(position.seq(), 1);
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// When the event is too large, a topic name is invalid (or unknown, for a
    /// hub that does not create topics), or the hub or a topic is closed. On
    /// error nothing is published, except after a store error that says
    /// the outcome is unknown ([`PublishError::is_outcome_unknown`]): the
    /// event may then still reach subscribers, and sending it again may
    /// deliver it twice; [`Hub::publish_keyed_to`] sends it again safely.
    pub async fn publish_to(&self, names: &[&str], event: Event) -> Result<Position, PublishError> {
        self.publish_with(names, event, None)
            .await
            .map(|published| published.position)
    }

    /// Publishes `event` to one topic under `key`; see [`Hub::publish_keyed_to`].
    ///
    /// # Errors
    ///
    /// See [`Hub::publish_keyed_to`].
    pub async fn publish_keyed(
        &self,
        topic: &str,
        key: &PublishKey,
        event: Event,
    ) -> Result<Published, PublishError> {
        self.publish_keyed_to(&[topic], key, event).await
    }

    /// Publishes `event` to `topics` as [`Hub::publish_to`] does, under a key
    /// the caller gives this publish: when the store already has a publish
    /// under `key`, within its window, nothing is stored, appended or
    /// delivered, and the first publish's position comes back
    /// ([`Published::is_duplicate`]). So a caller that did not learn
    /// whether a publish succeeded (an error whose outcome is unknown, a
    /// client whose `POST` timed out) sends it again under the same key,
    /// and subscribers receive it once.
    ///
    /// Only the key is compared: a second publish under it, whatever its
    /// topics and event, answers with the first one's position. The window
    /// is the store's: see [`MemoryStore`](super::MemoryStore) (two minutes
    /// and 10,000 keys unless set), and the docs of a shared store. A store
    /// that cannot deduplicate refuses keyed publishes with an error.
    ///
    /// The size limit is checked as if the event's id were the longest one
    /// (up to 19 bytes more than its real id), so that a publish sent again
    /// is judged as the first one was.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futures_util::StreamExt;
    /// use sse_engine::Event;
    /// use sse_engine::hub::{Hub, PublishKey};
    ///
    /// let hub = Hub::new();
    /// let mut chat = hub.subscribe(&["chat"], None).unwrap();
    /// let key = PublishKey::try_from("b7f3c1e0-message-1").unwrap();
    ///
    /// let first = hub.publish_keyed_to(&["chat"], &key, Event::new().data("hi")).await.unwrap();
    /// let retried = hub.publish_keyed_to(&["chat"], &key, Event::new().data("hi")).await.unwrap();
    /// assert_eq!(retried.position(), first.position());
    /// assert!(!first.is_duplicate() && retried.is_duplicate());
    ///
    /// // Subscribers receive it once.
    /// hub.publish("chat", Event::new().data("next")).await.unwrap();
    /// assert!(chat.next().await.unwrap().as_bytes().ends_with(b"data: hi\n\n"));
    /// assert!(chat.next().await.unwrap().as_bytes().ends_with(b"data: next\n\n"));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Hub::publish_to`]. A refusal (closed, too large, invalid topic)
    /// says nothing of an earlier publish under the same key.
    pub async fn publish_keyed_to(
        &self,
        names: &[&str],
        key: &PublishKey,
        event: Event,
    ) -> Result<Published, PublishError> {
        self.publish_with(names, event, Some(key)).await
    }

    async fn publish_with(
        &self,
        names: &[&str],
        mut event: Event,
        key: Option<&PublishKey>,
    ) -> Result<Published, PublishError> {
        let inner = &*self.inner;
        if inner.is_closed() {
            return Err(PublishError::Closed);
        }
        let topics = inner.resolve(names).map_err(PublishError::InvalidTopic)?;
        event.clear_id();
        let body = id_block_body(event);
        let Some(key) = key.filter(|_| !inner.is_fed()) else {
            return ordered(inner, &topics, &body, key).await;
        };
        // A keyed publish on a hub without a feed runs to its end once
        // started: dropped while the store appends (a handler whose client
        // went away, the client that retries), the store could keep the key
        // of an event no log received, and the retry would be answered
        // "duplicate" of it. A store that answers at once (`MemoryStore`)
        // leaves no such moment: the first poll finishes it, and no task is
        // spawned, unless another publish holds `publish_order` then (the
        // task then waits its turn: as many tasks as keyed publishes queued
        // behind a slow store, each ending when its append does).
        let shared = self.inner.clone();
        let key = key.clone();
        let mut publish =
            Box::pin(async move { ordered(&shared, &topics, &body, Some(&key)).await });
        // Polled once in place: ready now, or spawned below.
        let first = poll_fn(|cx| match publish.as_mut().poll(cx) {
            Poll::Ready(published) => Poll::Ready(Some(published)),
            Poll::Pending => Poll::Ready(None),
        });
        if let Some(published) = first.await {
            return published;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => match runtime.spawn(publish).await {
                Ok(published) => published,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                // The runtime shut down while the store appended.
                Err(_) => Err(PublishError::Store(StoreError::outcome_unknown(
                    "the runtime shut down while the store appended",
                ))),
            },
            Err(_) => publish.await,
        }
    }
}

/// A publish from the moment it takes its turn (`publish_order`): the
/// store's append, then the commit to the logs.
async fn ordered(
    inner: &Shared,
    topics: &[Arc<Topic>],
    body: &Bytes,
    key: Option<&PublishKey>,
) -> Result<Published, PublishError> {
    let topic_names: Vec<_> = topics.iter().map(|topic| topic.name.clone()).collect();
    let order = inner.publish_order().await;
    // A keyed publish may be sent again when the sequence has grown by
    // a digit: it is judged by the longest id, the same every time.
    let next = match key {
        Some(_) => Position::new(inner.epoch(), u64::MAX),
        None => Position::new(inner.epoch(), inner.head() + 1),
    };
    let size = id_line_len(next) + body.len();
    // An event larger than a whole log would be evicted as it is appended:
    // refused like one over the per-event limit.
    let limits = inner.limits();
    let limit = limits.max_event_bytes.min(limits.max_bytes);
    if size > limit {
        return Err(PublishError::TooLarge { size, limit });
    }
    if topics.iter().any(|topic| topic.lock().is_closed()) {
        return Err(PublishError::Closed);
    }
    let appended = append(inner.store(), &topic_names, body, key)
        .await
        .map_err(PublishError::Store)?;
    let position = Position::new(inner.epoch(), appended.seq);
    let published = Published {
        position,
        duplicate: appended.duplicate,
    };
    if appended.duplicate {
        // Stored before (and, without a feed, committed to the logs
        // then: the first publish held `publish_order` until it was).
        tracing::debug!(id = %position, topics = ?topic_names, "publish key already stored; nothing published");
        return Ok(published);
    }
    if inner.is_fed() {
        // Stored: the feed brings it to this process's logs, in the
        // order every process sees.
        inner.counters().published();
        tracing::trace!(id = %position, topics = ?topic_names, "published to the shared store");
        return Ok(published);
    }

    let seq = appended.seq;
    // The key names an event nobody will receive: forgotten, so that
    // the publish sent again is published.
    let forget = || {
        if let Some(key) = key {
            inner.store().forget_key(key, seq);
        }
    };
    let mut commit = inner.commit();
    if seq <= commit.last_seq() {
        let last = commit.last_seq();
        drop(commit);
        forget();
        return Err(PublishError::Store(StoreError::new(format!(
            "the store gave sequence number {seq}, not above {last}"
        ))));
    }
    if !commit.append_to_all(topics, &Entry::new(position, body)) {
        drop(commit);
        forget();
        return Err(PublishError::Closed);
    }
    inner.counters().published();
    let wakeups = commit.publish_through(seq);
    // No waker is woken under a lock: waking may publish.
    drop(order);
    let woken = wakeups.wake();
    tracing::trace!(id = %position, topics = ?topic_names, subscribers_woken = woken, "published");
    Ok(published)
}

/// Appends to the store, under `key` when there is one.
async fn append(
    store: &Arc<dyn super::Store>,
    topics: &[Text],
    body: &Bytes,
    key: Option<&PublishKey>,
) -> Result<Appended, StoreError> {
    match key {
        Some(key) => store.append_keyed(topics, body, key).await,
        None => store.append(topics, body).await.map(Appended::new),
    }
}

/// The wire form of a hub event, whose id is written in front of it. A hub
/// event always has an id, which conformant clients record at the block's
/// blank line, so a dataless event (only comments or `retry`, which
/// `Event::encode` ends with no blank line) gets its blank line here: it is
/// an id-only block, as the crate's framing rules say.
fn id_block_body(event: Event) -> Bytes {
    let body = event.encode().into_bytes();
    if body.ends_with(b"\n\n") {
        return body;
    }
    let mut block = BytesMut::with_capacity(body.len() + 1);
    block.extend_from_slice(&body);
    block.extend_from_slice(b"\n");
    block.freeze()
}
