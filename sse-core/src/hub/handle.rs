//! [`Hub`]: a cloneable handle to named topics; publishing, subscribing, closing.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::stats::Counters;
use super::topic::{Entry, Topic, TopicState, id_line_len};
use super::{
    Epoch, HubStats, LagPolicy, LogLimits, MemoryStore, Position, PublishError, Store, StoreError,
    SubscribeError, Subscription, TopicError,
};
use crate::{EncodedEvent, Event, InvalidField, LastEventId, RequestCursor, Text};

/// The longest topic name accepted, in bytes.
pub const MAX_TOPIC_NAME_BYTES: usize = 256;

/// Publish once, deliver to every subscriber, resume from `Last-Event-ID`.
///
/// A hub holds named topics. Each topic is a bounded log of encoded events;
/// a subscriber is a cursor into the logs of its topics, so replaying what a
/// reconnecting client missed and delivering live events are the same read,
/// with no window in between. A subscriber that reads slowly costs nothing but
/// its cursor, and never slows the publisher. See the [module docs](super).
///
/// Cloning a hub is cheap: clones share the topics.
#[derive(Clone)]
pub struct Hub {
    pub(crate) inner: Arc<HubInner>,
}

pub(crate) struct HubInner {
    pub(crate) epoch: Epoch,
    pub(crate) store: Arc<dyn Store>,
    /// Held across the store's append, so that ids are given, and events
    /// enter the logs, in one order.
    publish_order: tokio::sync::Mutex<()>,
    pub(crate) limits: LogLimits,
    pub(crate) lag_policy: LagPolicy,
    pub(crate) gap_event: Text,
    create_topics: bool,
    max_topics: usize,
    pub(crate) topics: Mutex<HashMap<Text, Arc<Topic>>>,
    /// The store is shared and reports every event through its feed: the
    /// logs take events from the feed only, never from a local publish.
    pub(crate) fed: bool,
    /// Held while an event is appended to its topics, so events enter every
    /// log in the order of their sequence numbers.
    pub(crate) publish: Mutex<u64>,
    /// Every event up to this sequence number is in all of its topics' logs.
    /// Readers read no further, so a subscriber to several topics can never
    /// pass an event that is still being appended.
    pub(crate) published_through: AtomicU64,
    pub(crate) closed: AtomicBool,
    /// How many times subscribers were woken for something other than a
    /// publish (a topic or the hub closed, events lost): raised before they
    /// are woken, so that a subscriber reading the tails (which do not show
    /// closes and losses) reads under the lock instead.
    pub(crate) rereads: AtomicU64,
    pub(crate) final_event: Mutex<Option<EncodedEvent>>,
    pub(crate) counters: Counters,
    /// Notified when the last subscriber leaves.
    pub(crate) idle: Notify,
}

/// Configures a [`Hub`].
///
/// ```
/// use sse_engine::hub::{Hub, LagPolicy, LogLimits};
///
/// let hub = Hub::builder()
///     .log_limits(LogLimits::new().max_events(500))
///     .lag_policy(LagPolicy::Close)
///     .create_topics(false)
///     .topic("news")
///     .build();
/// assert!(hub.topic_names().contains(&"news".to_owned()));
/// ```
#[must_use]
pub struct HubBuilder {
    limits: LogLimits,
    lag_policy: LagPolicy,
    gap_event: Text,
    create_topics: bool,
    max_topics: usize,
    store: Option<Arc<dyn Store>>,
    topics: Vec<Text>,
}

impl fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubBuilder")
            .field("limits", &self.limits)
            .field("lag_policy", &self.lag_policy)
            .field("create_topics", &self.create_topics)
            .field("max_topics", &self.max_topics)
            .field("epoch", &self.store.as_ref().map(|store| store.epoch()))
            .finish_non_exhaustive()
    }
}

impl HubBuilder {
    /// Bounds of every topic's log.
    pub fn log_limits(mut self, limits: LogLimits) -> Self {
        self.limits = limits;
        self
    }

    /// What happens to subscribers the log overtakes.
    pub fn lag_policy(mut self, policy: LagPolicy) -> Self {
        self.lag_policy = policy;
        self
    }

    /// The event name of the gap signal (`gap` unless set).
    ///
    /// # Errors
    ///
    /// When the name holds a line break.
    pub fn gap_event_name(mut self, name: impl Into<Text>) -> Result<Self, InvalidField> {
        let name = name.into();
        crate::field::check_single_line(crate::FieldName::Event, &name)?;
        self.gap_event = name;
        Ok(self)
    }

    /// Whether publishing or subscribing to a topic that does not exist
    /// creates it (yes unless set). When not, only topics made with
    /// [`HubBuilder::topic`] exist, and naming another one is an error.
    pub fn create_topics(mut self, create: bool) -> Self {
        self.create_topics = create;
        self
    }

    /// The most topics the hub holds (10,000 unless set), so that clients
    /// naming topics cannot grow it without bound.
    pub fn max_topics(mut self, max: usize) -> Self {
        self.max_topics = max;
        self
    }

    /// Creates a topic now. Names that are empty or too long are ignored.
    pub fn topic(mut self, name: impl Into<Text>) -> Self {
        self.topics.push(name.into());
        self
    }

    /// Uses a [`MemoryStore`] with a given epoch instead of a random one
    /// (for tests, mostly). Replaces a store set before.
    pub fn epoch(mut self, epoch: Epoch) -> Self {
        self.store = Some(Arc::new(MemoryStore::with_epoch(epoch)));
        self
    }

    /// Where ids come from and old events are replayed from (a
    /// [`MemoryStore`] unless set). The hub's epoch is the store's.
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The hub.
    ///
    /// # Panics
    ///
    /// With a store that has a [feed](Store::feed), outside a tokio runtime:
    /// the feed runs on it.
    pub fn build(self) -> Hub {
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let head = store.head();
        let feed = store.feed();
        let topics = self
            .topics
            .into_iter()
            .filter(|name| check_name(name).is_ok())
            .map(|name| {
                let start = store.follow(&name, head);
                (name.clone(), Arc::new(Topic::starting_after(name, start)))
            })
            .collect();
        let hub = Hub {
            inner: Arc::new(HubInner {
                epoch: store.epoch(),
                store,
                publish_order: tokio::sync::Mutex::new(()),
                limits: self.limits,
                lag_policy: self.lag_policy,
                gap_event: self.gap_event,
                create_topics: self.create_topics,
                max_topics: self.max_topics,
                topics: Mutex::new(topics),
                fed: feed.is_some(),
                publish: Mutex::new(head),
                published_through: AtomicU64::new(head),
                closed: AtomicBool::new(false),
                rereads: AtomicU64::new(0),
                final_event: Mutex::new(None),
                counters: Counters::default(),
                idle: Notify::new(),
            }),
        };
        if let Some(feed) = feed {
            tokio::spawn(super::feed::run(Arc::downgrade(&hub.inner), feed));
        }
        hub
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with default limits that creates topics when they are first used.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a hub.
    pub fn builder() -> HubBuilder {
        HubBuilder {
            limits: LogLimits::new(),
            lag_policy: LagPolicy::default(),
            gap_event: Text::from_static("gap"),
            create_topics: true,
            max_topics: 10_000,
            store: None,
            topics: Vec::new(),
        }
    }

    /// This hub's epoch: the first part of every id it gives.
    pub fn epoch(&self) -> Epoch {
        self.inner.epoch
    }

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
    /// error nothing is published.
    pub async fn publish_to(
        &self,
        names: &[&str],
        mut event: Event,
    ) -> Result<Position, PublishError> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Err(PublishError::Closed);
        }
        let topics = self.resolve(names).map_err(PublishError::InvalidTopic)?;
        event.clear_id();
        let body = id_block_body(event);
        let topic_names: Vec<Text> = topics.iter().map(|topic| topic.name.clone()).collect();

        // A shared store orders appends itself (its feed is the order); the
        // local order only matters when this hub numbers its own logs.
        let _order = if inner.fed {
            None
        } else {
            Some(inner.publish_order.lock().await)
        };
        let next = Position::new(
            inner.epoch,
            inner.published_through.load(Ordering::Acquire) + 1,
        );
        let size = id_line_len(next) + body.len();
        // An event larger than a whole log would be evicted as it is appended:
        // refused like one over the per-event limit.
        let limit = inner.limits.max_event_bytes.min(inner.limits.max_bytes);
        if size > limit {
            return Err(PublishError::TooLarge { size, limit });
        }
        if topics.iter().any(|topic| topic.lock().closed) {
            return Err(PublishError::Closed);
        }
        let seq = inner
            .store
            .append(&topic_names, &body)
            .await
            .map_err(PublishError::Store)?;
        if inner.fed {
            // Stored: the feed brings it to this process's logs, in the
            // order every process sees.
            Counters::add(&inner.counters.published, 1);
            let position = Position::new(inner.epoch, seq);
            tracing::trace!(id = %position, topics = ?names, "published to the shared store");
            return Ok(position);
        }

        let position = {
            let mut last_seq = lock(&inner.publish);
            if seq <= *last_seq {
                return Err(PublishError::Store(StoreError::new(format!(
                    "the store gave sequence number {seq}, not above {last}",
                    last = *last_seq
                ))));
            }
            let position = Position::new(inner.epoch, seq);
            let entry = Entry::new(position, &body);
            let mut states: Vec<MutexGuard<'_, TopicState>> =
                topics.iter().map(|topic| topic.lock()).collect();
            // Closed while the store was appending: no subscriber can read it.
            if inner.closed.load(Ordering::Acquire) || states.iter().any(|state| state.closed) {
                return Err(PublishError::Closed);
            }
            for state in &mut states {
                state.append(entry.clone(), &inner.limits);
            }
            drop(states);
            *last_seq = seq;
            inner.published_through.store(seq, Ordering::Release);
            position
        };
        Counters::add(&inner.counters.published, 1);
        let woken: usize = topics.iter().map(|topic| topic.wake_all()).sum();
        tracing::trace!(id = %position, topics = ?names, subscribers_woken = woken, "published");
        Ok(position)
    }

    /// Subscribes to `topics`, resuming strictly after `last_event_id` when
    /// the client sent one; see [`Subscription`].
    ///
    /// - No cursor: the subscription starts with the next event published.
    /// - A cursor of this hub still covered by the log: every event after it,
    ///   then live events, with nothing lost or repeated in between.
    /// - A cursor whose events were evicted, from another epoch, or never
    ///   issued: a [`Gap`](super::Gap) signal first, then live events (never
    ///   the whole log).
    ///
    /// # Errors
    ///
    /// When no topic is named, a name is invalid (or unknown, for a hub that
    /// does not create topics), or the hub is closed.
    pub fn subscribe(
        &self,
        topics: &[&str],
        last_event_id: Option<LastEventId>,
    ) -> Result<Subscription, SubscribeError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(SubscribeError::Closed);
        }
        let topics = self.resolve(topics).map_err(SubscribeError::InvalidTopic)?;
        Ok(Subscription::new(self.inner.clone(), topics, last_event_id))
    }

    /// Subscribes to `topics` for a request: its cursor is read with
    /// [`LastEventId::from_request`] (header, or else query parameter). A
    /// cursor that is present but unusable (too long, not UTF-8, repeated)
    /// is treated like an unknown one: the client gets a gap signal, not a
    /// silent fresh start.
    ///
    /// ```
    /// use http::{HeaderMap, Uri};
    /// use sse_engine::hub::Hub;
    ///
    /// let hub = Hub::new();
    /// let uri: Uri = "/events?lastEventId=abc".parse().unwrap();
    /// let subscription = hub.subscribe_request(&["chat"], &HeaderMap::new(), &uri).unwrap();
    /// # drop(subscription);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe`].
    pub fn subscribe_request(
        &self,
        topics: &[&str],
        headers: &http::HeaderMap,
        uri: &http::Uri,
    ) -> Result<Subscription, SubscribeError> {
        self.subscribe_with(topics, RequestCursor::from_request(headers, uri))
    }

    /// Subscribes to `topics` for a cursor already read from a request (by
    /// the `sse-tower` layer, or an extractor). An [`Invalid`](RequestCursor::Invalid)
    /// cursor gets a gap signal, as in [`Hub::subscribe_request`].
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe`].
    pub fn subscribe_with(
        &self,
        topics: &[&str],
        cursor: RequestCursor,
    ) -> Result<Subscription, SubscribeError> {
        match cursor {
            RequestCursor::Absent => self.subscribe(topics, None),
            RequestCursor::Valid(id) => self.subscribe(topics, Some(id)),
            RequestCursor::Invalid(error) => {
                tracing::debug!(%error, "unusable Last-Event-ID; the client is told of a gap");
                if self.inner.closed.load(Ordering::Acquire) {
                    return Err(SubscribeError::Closed);
                }
                let topics = self.resolve(topics).map_err(SubscribeError::InvalidTopic)?;
                Ok(Subscription::new_unusable_cursor(
                    self.inner.clone(),
                    topics,
                ))
            }
        }
    }

    /// Counters and gauges of the hub. Deliveries are counted by each
    /// subscriber on its own (no counter shared by all of them on the hot
    /// path) and summed here: a call takes time in proportion to the
    /// subscribers alive.
    pub fn stats(&self) -> HubStats {
        let topics = lock(&self.inner.topics).len();
        self.inner.counters.snapshot(topics)
    }

    /// The names of the topics that exist now.
    pub fn topic_names(&self) -> Vec<String> {
        lock(&self.inner.topics)
            .keys()
            .map(|name| name.to_string())
            .collect()
    }

    /// Events and encoded bytes in a topic's log, and its subscribers.
    pub fn topic_len(&self, name: &str) -> Option<(usize, usize, usize)> {
        let topic = lock(&self.inner.topics).get(name).cloned()?;
        let state = topic.lock();
        Some((state.len(), state.bytes(), state.subscribers))
    }

    /// Closes one topic: its subscribers receive what they have not read yet,
    /// then the stream ends. The name can be used again, for a new topic.
    pub fn close_topic(&self, name: &str) {
        let Some(topic) = lock(&self.inner.topics).remove(name) else {
            return;
        };
        topic.lock().closed = true;
        self.inner.rereads.fetch_add(1, Ordering::AcqRel);
        let woken = topic.wake_all();
        tracing::debug!(topic = name, subscribers = woken, "topic closed");
    }

    /// Closes the hub: nothing more is published, every subscriber receives
    /// what it has not read yet, then `final_event` if there is one, then its
    /// stream ends.
    pub fn close(&self, final_event: Option<Event>) {
        *lock(&self.inner.final_event) = final_event.map(Event::encode);
        // Set under the topics' map, which `resolve` checks under the same
        // lock: no topic can be created after this and escape the close.
        let topics: Vec<_> = {
            let topics = lock(&self.inner.topics);
            self.inner.closed.store(true, Ordering::Release);
            topics.values().cloned().collect()
        };
        for topic in &topics {
            topic.lock().closed = true;
        }
        self.inner.rereads.fetch_add(1, Ordering::AcqRel);
        let woken: usize = topics.iter().map(|topic| topic.wake_all()).sum();
        tracing::info!(subscribers = woken, "hub closed");
    }

    /// Closes the hub, then waits until every subscription is gone (their
    /// clients have received the end of the stream) or `grace` has passed.
    /// Returns the subscriptions still open after the grace period.
    pub async fn shutdown(&self, final_event: Option<Event>, grace: Duration) -> usize {
        self.close(final_event);
        let deadline = Instant::now() + grace;
        loop {
            let idle = self.inner.idle.notified();
            let open = self.inner.counters.subscribers.load(Ordering::Acquire);
            if open == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                let open = self.inner.counters.subscribers.load(Ordering::Acquire);
                tracing::warn!(
                    open,
                    "hub shutdown: grace period over with subscriptions open"
                );
                return open;
            }
        }
    }

    /// The topics named, created when the hub does that, without duplicates.
    fn resolve(&self, names: &[&str]) -> Result<Vec<Arc<Topic>>, TopicError> {
        if names.is_empty() {
            return Err(TopicError::NoTopic);
        }
        let mut sorted: Vec<&str> = names.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut topics = lock(&self.inner.topics);
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(TopicError::Closed);
        }
        let mut resolved = Vec::with_capacity(sorted.len());
        for name in sorted {
            check_name(name)?;
            if let Some(topic) = topics.get(name) {
                resolved.push(topic.clone());
                continue;
            }
            if !self.inner.create_topics {
                return Err(TopicError::Unknown(name.to_owned()));
            }
            if topics.len() >= self.inner.max_topics {
                return Err(TopicError::TooMany {
                    limit: self.inner.max_topics,
                });
            }
            let name = Text::copy_from(name);
            // With a shared store the topic may hold events from before this
            // process knew it: its log starts at the current head, and older
            // cursors are served from the store.
            let start = if self.inner.fed {
                let head = self.inner.published_through.load(Ordering::Acquire);
                self.inner.store.follow(&name, head)
            } else {
                0
            };
            let topic = Arc::new(Topic::starting_after(name.clone(), start));
            topics.insert(name, topic.clone());
            resolved.push(topic);
        }
        Ok(resolved)
    }
}

fn check_name(name: &str) -> Result<(), TopicError> {
    if name.is_empty() {
        return Err(TopicError::Empty);
    }
    if name.len() > MAX_TOPIC_NAME_BYTES {
        return Err(TopicError::TooLong { len: name.len() });
    }
    Ok(())
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("epoch", &self.inner.epoch)
            .field("limits", &self.inner.limits)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
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
