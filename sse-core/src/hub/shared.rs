//! The hub's shared state and the protocol every path follows to change it.
//!
//! # State
//!
//! A [`Hub`](super::Hub) and all its clones, every [`Subscription`](super::Subscription)
//! and the feed task (for a shared store) hold one [`Shared`]:
//!
//! | state | what it is | guarded by |
//! | --- | --- | --- |
//! | `publish_order` | the order in which a local publish asks the store for an id; so also that a keyed publish is answered as a duplicate only once the first under its key was committed (or its key forgotten, when the commit failed). Not taken by a fed hub: there a duplicate may be answered before the feed brought the first here, and a cursor at it waits for the feed (`subscription/ahead.rs`) | itself (an async mutex, held across the store's `append` or `append_keyed` and the commit) |
//! | `last_seq` | the highest sequence number committed: the newest event appended by a local publish; for a fed hub, the feed's `through` | itself |
//! | `head` | every event up to here is in all of its topics' logs | written under `last_seq`; read without a lock |
//! | `topics` | the map of topic names to topics | itself |
//! | `closed` | the hub is closed | written under `topics`; read without a lock |
//! | `ended` | the names of topics ended for good | its own lock, taken under `topics` |
//! | `rereads` | how many times readers were woken for a close or a loss | raised without a lock, after the change, before the wake-up |
//! | `final_event` | sent to every subscriber after a close (a second close replaces it) | itself; written before any topic is closed |
//! | `counters` | the hub's statistics, the live subscriber count | atomics; the list of live subscribers' counts under its own lock |
//!
//! and each [`Topic`] holds:
//!
//! | state | what it is | guarded by |
//! | --- | --- | --- |
//! | the log, its byte count, `closed`, the subscriber count | see [`TopicState`](super::topic::TopicState) | the topic's lock |
//! | the tail | the newest events again, for readers without a lock | written under the topic's lock; read through write-once slots (see [`tail`](super::tail)) |
//! | `evicted` | the highest sequence number evicted or lost | written under the topic's lock; read without a lock too |
//! | the wakers | one slot per subscriber | their own lock |
//!
//! # Invariants
//!
//! 1. **Readers never pass the head.** Every event up to `head` is in the
//!    logs (and tails) of all its topics. A reader delivers nothing above
//!    `head`, whether from a log, a tail or a store's replay; one it sees
//!    above it is still being appended, to some of its topics perhaps not
//!    yet, and is read once `head` moves. So a reader of several topics can
//!    never deliver an event and then find an older one. A reader that sees
//!    an event above the head wakes itself at once (it is a matter of the
//!    commit in progress finishing), so nothing may stay above the head for
//!    long: a commit holds no lock it could wait on elsewhere.
//! 2. **Logs grow in sequence order.** Appends happen under `last_seq`, in
//!    increasing sequence numbers; `head` only rises.
//! 3. **Losses and closes are never missed by a lock-free reader.** A close
//!    or a loss is written under the topic's lock, *then* `rereads` is
//!    raised, *then* subscribers are woken. A reader loads `rereads` before
//!    it takes any topic's lock for a locked read, and arms the tails with
//!    that count; reading on from the tails, it loads `head` first, then
//!    each tail's entry, then that topic's `evicted` mark, then `rereads`
//!    again, and goes back to a locked read if the count moved or anything
//!    it loaded says so. It reads the tails only while polled with the waker
//!    of its last locked read, with no filter to run and no replayed events
//!    to merge.
//! 4. **A topic's `evicted` mark only rises**, under the topic's lock, and a
//!    subscriber whose cursor is below it is told of a gap (or replayed from
//!    the store); it is never silently moved on.
//! 5. **Closing is final.** `closed` is set under `topics`, which topic
//!    creation also takes, so no topic is created after a close; a closed
//!    topic is never reopened (its name can name a new topic).
//! 6. **No wake-up is lost.** A subscriber registers its waker in every
//!    topic *before* it reads under the topic's lock; a commit wakes every
//!    registered waker of the topics it appended to *after* raising the head.
//!    Waking does not take the wakers, so a subscriber polled with the same
//!    waker never registers again. A subscriber woken and not polled since
//!    is not woken again (a client that stopped reading costs a publish
//!    nothing): it takes its wake-up at the start of every poll, before it
//!    loads `head` or `rereads`, and a waker loads the flag after its change
//!    (see [`Wakeup`](super::wakers::Wakeup)). A fed commit wakes only the topics it
//!    appended to: a subscriber waiting for the head to reach a cursor ahead
//!    of the feed is woken by those appends, or by its own timer.
//!
//! # Operations
//!
//! Shared state changes only through these methods, never through fields:
//!
//! - **Commit a publish** ([`Shared::commit`]): under `last_seq`, append to
//!   each topic's log, raise `head`, release the locks, then wake the
//!   topics' subscribers ([`Wakeups`](commit::Wakeups)). A local publish and the feed both
//!   commit this way.
//! - **Make readers re-read** ([`Shared::wake_to_reread`]): raise `rereads`,
//!   then wake. Every close and loss calls it, after its change.
//! - **Close** ([`Shared::close`], [`Shared::close_topic`]) and **mark events
//!   lost** ([`Shared::mark_lost`]).
//! - **Find or create topics** ([`Shared::resolve`]) and **count a subscriber
//!   in and out** ([`Shared::join`], [`Shared::leave`]).
//!
//! One change happens outside them: a reader under a topic's lock evicts the
//! events past the log's age limit ([`TopicState::evict`](super::topic::TopicState::evict)),
//! raising `evicted` without raising `rereads` or waking anyone. Readers on
//! the tails check each entry's age themselves, so none of them needs telling.
//!
//! # Lock order
//!
//! `publish_order` → `last_seq` → `topics` → a topic's lock (several at once
//! only in the order [`Shared::resolve`] returns them: sorted by name).
//! A topic's wakers, `ended`, the counters' list, `final_event` and the
//! store's own locks are leaves: nothing else is taken while one is held. The store's
//! [`follow`](super::Store::follow) runs under `topics` (so that a topic is
//! followed before anyone can publish to it). No waker is woken while a lock
//! is held, `publish_order` included: waking may run code that takes one
//! (dropping a subscription, publishing).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::ended::EndedTopics;
use super::error::check_topic_name;
use super::lock::lock;
use super::stats::{Counters, SubscriberCounts};
use super::topic::Topic;
use super::{Epoch, HubStats, LagPolicy, LogLimits, Store, TopicError};
use crate::{EncodedEvent, Text};

mod commit;

/// What a hub is built with and never changes.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) limits: LogLimits,
    pub(crate) lag_policy: LagPolicy,
    pub(crate) gap_event: Text,
    pub(crate) create_topics: bool,
    pub(crate) max_topics: usize,
    /// Subscriptions admitted at once, hub-wide and per topic.
    pub(crate) max_subscribers: usize,
    pub(crate) max_subscribers_per_topic: usize,
}

/// See the [module docs](self).
pub(crate) struct Shared {
    epoch: Epoch,
    store: Arc<dyn Store>,
    settings: Settings,
    /// The store is shared and reports every event through its feed: the
    /// logs take events from the feed only, never from a local publish.
    fed: bool,
    publish_order: tokio::sync::Mutex<()>,
    last_seq: Mutex<u64>,
    head: AtomicU64,
    topics: Mutex<HashMap<Text, Arc<Topic>>>,
    ended: Mutex<EndedTopics>,
    closed: AtomicBool,
    rereads: AtomicU64,
    final_event: Mutex<Option<EncodedEvent>>,
    counters: Counters,
    /// Notified when the last subscriber leaves.
    idle: Notify,
}

impl Shared {
    /// The state of a hub on `store`, with `topics` created now (names that
    /// are empty or too long are left out).
    pub(crate) fn new(
        store: Arc<dyn Store>,
        head: u64,
        settings: Settings,
        topics: Vec<Text>,
        fed: bool,
    ) -> Self {
        let topics = topics
            .into_iter()
            .filter(|name| check_topic_name(name).is_ok())
            .map(|name| {
                let start = store.follow(&name, head);
                (name.clone(), Arc::new(Topic::starting_after(name, start)))
            })
            .collect();
        let ended = Mutex::new(EndedTopics::new(settings.max_topics));
        Self {
            epoch: store.epoch(),
            store,
            settings,
            fed,
            publish_order: tokio::sync::Mutex::new(()),
            last_seq: Mutex::new(head),
            head: AtomicU64::new(head),
            ended,
            topics: Mutex::new(topics),
            closed: AtomicBool::new(false),
            rereads: AtomicU64::new(0),
            final_event: Mutex::new(None),
            counters: Counters::default(),
            idle: Notify::new(),
        }
    }

    pub(crate) fn epoch(&self) -> Epoch {
        self.epoch
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn limits(&self) -> &LogLimits {
        &self.settings.limits
    }

    /// The most subscribers admitted: hub-wide, and per topic.
    pub(crate) fn max_subscribers(&self) -> (usize, usize) {
        (
            self.settings.max_subscribers,
            self.settings.max_subscribers_per_topic,
        )
    }

    pub(crate) fn lag_policy(&self) -> LagPolicy {
        self.settings.lag_policy
    }

    pub(crate) fn gap_event(&self) -> &Text {
        &self.settings.gap_event
    }

    /// Whether the logs are fed by a shared store's feed (see [`Shared`]).
    pub(crate) fn is_fed(&self) -> bool {
        self.fed
    }

    /// Every event up to this sequence number is in all of its topics' logs
    /// (invariant 1).
    pub(crate) fn head(&self) -> u64 {
        // Sequentially consistent: a subscriber loads it after taking its
        // wake-up (see `Wakeup`); as cheap as an acquire load on x86.
        self.head.load(Ordering::SeqCst)
    }

    /// The count [`Shared::wake_to_reread`] raises (invariant 3).
    pub(crate) fn rereads(&self) -> u64 {
        // Sequentially consistent, as `head`.
        self.rereads.load(Ordering::SeqCst)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The event every subscriber receives after a close, if one was given.
    pub(crate) fn final_event(&self) -> Option<EncodedEvent> {
        lock(&self.final_event).clone()
    }

    /// Waits for the previous local publish to be committed: taken before the
    /// store gives an id, so that ids are given, and events enter the logs,
    /// in one order. `None` for a fed hub, whose store orders appends itself
    /// (the feed is the order).
    pub(crate) async fn publish_order(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if self.fed {
            None
        } else {
            Some(self.publish_order.lock().await)
        }
    }

    /// Raises `rereads`, then wakes every subscriber of `topics`: the one way
    /// to tell readers of something other than a publish (invariant 3).
    /// Returns how many were woken.
    fn wake_to_reread(&self, topics: &[Arc<Topic>]) -> usize {
        self.rereads.fetch_add(1, Ordering::AcqRel);
        topics.iter().map(|topic| topic.wake_all()).sum()
    }

    /// Closes the hub: no topic is created or published to after this, and
    /// every subscriber, once it has read what it has not yet, receives
    /// `final_event` and ends. Returns how many subscribers were woken.
    pub(crate) fn close(&self, final_event: Option<EncodedEvent>) -> usize {
        *lock(&self.final_event) = final_event;
        let topics: Vec<_> = {
            let topics = lock(&self.topics);
            self.closed.store(true, Ordering::Release);
            topics.values().cloned().collect()
        };
        for topic in &topics {
            topic.lock().close();
        }
        self.wake_to_reread(&topics)
    }

    /// Closes one topic and removes it from the map; `None` when there is no
    /// such topic, or how many subscribers were woken.
    pub(crate) fn close_topic(&self, name: &str) -> Option<usize> {
        let topic = lock(&self.topics).remove(name)?;
        topic.lock().close();
        Some(self.wake_to_reread(&[topic]))
    }

    /// Closes topic `name` for good (whether or not it exists now): it is
    /// removed and closed as by [`Shared::close_topic`], and its name is
    /// refused from now on ([`TopicError::Ended`]). `None` when there was
    /// no such topic, or how many subscribers were woken.
    pub(crate) fn end_topic(&self, name: &str) -> Option<usize> {
        let topic = {
            let mut topics = lock(&self.topics);
            lock(&self.ended).insert(Text::copy_from(name));
            topics.remove(name)
        }?;
        topic.lock().close();
        Some(self.wake_to_reread(&[topic]))
    }

    /// Marks events of topic `name` up to `through` as unreadable in its log
    /// (a shared store lost them before this process read them).
    pub(crate) fn mark_lost(&self, name: &Text, through: u64) {
        if let Some(topic) = self.topic(name) {
            topic.lock().mark_lost(through);
            self.wake_to_reread(&[topic]);
        }
    }

    /// The topic named, if it exists.
    pub(crate) fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        lock(&self.topics).get(name).cloned()
    }

    /// The names of the topics that exist now.
    pub(crate) fn topic_names(&self) -> Vec<String> {
        lock(&self.topics)
            .keys()
            .map(|name| name.to_string())
            .collect()
    }

    /// The topics named, sorted by name and without duplicates (the order in
    /// which several are locked), created when the hub does that.
    pub(crate) fn resolve(&self, names: &[&str]) -> Result<Vec<Arc<Topic>>, TopicError> {
        if names.is_empty() {
            return Err(TopicError::NoTopic);
        }
        let mut sorted: Vec<&str> = names.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut topics = lock(&self.topics);
        if self.is_closed() {
            return Err(TopicError::Closed);
        }
        let mut resolved = Vec::with_capacity(sorted.len());
        for name in sorted {
            check_topic_name(name)?;
            if let Some(topic) = topics.get(name) {
                resolved.push(topic.clone());
                continue;
            }
            // Only where a topic would be created: an ended topic is in no
            // map, so publishing to a live one never looks.
            if lock(&self.ended).contains(name) {
                return Err(TopicError::Ended(name.to_owned()));
            }
            if !self.settings.create_topics {
                return Err(TopicError::Unknown(name.to_owned()));
            }
            if topics.len() >= self.settings.max_topics {
                return Err(TopicError::TooMany {
                    limit: self.settings.max_topics,
                });
            }
            let name = Text::copy_from(name);
            // With a shared store the topic may hold events from before this
            // process knew it: its log starts at the current head, and older
            // cursors are served from the store.
            let start = if self.fed {
                self.store.follow(&name, self.head())
            } else {
                0
            };
            let topic = Arc::new(Topic::starting_after(name.clone(), start));
            topics.insert(name, topic.clone());
            resolved.push(topic);
        }
        Ok(resolved)
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> HubStats {
        let topics = lock(&self.topics).len();
        self.counters.snapshot(topics)
    }

    /// Counts a new subscriber, unless the hub has as many as it admits
    /// (`None`): its delivery counts and the index to leave with.
    pub(crate) fn join(&self) -> Option<(Arc<SubscriberCounts>, usize)> {
        let max = self.settings.max_subscribers;
        self.counters
            .subscribers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |alive| {
                (alive < max).then_some(alive + 1)
            })
            .ok()?;
        Some(self.counters.join())
    }

    /// Counts a subscriber out; the last one to leave wakes
    /// [`Shared::idle`]'s waiters.
    pub(crate) fn leave(&self, counts_index: usize) {
        self.counters.leave(counts_index);
        if self.counters.subscribers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Counts a subscription refused for the limits on subscribers.
    pub(crate) fn count_refusal(&self, per_topic: bool) {
        self.counters.refused(per_topic);
    }

    /// The subscribers alive now.
    pub(crate) fn subscribers(&self) -> usize {
        self.counters.subscribers.load(Ordering::Acquire)
    }

    /// Notified when the last subscriber leaves; take the future before
    /// checking [`Shared::subscribers`], so that no leave is missed.
    pub(crate) fn idle(&self) -> tokio::sync::futures::Notified<'_> {
        self.idle.notified()
    }

    /// Moves the head as if events up to `seq` alone were committed.
    #[cfg(test)]
    pub(crate) fn set_head(&self, seq: u64) {
        self.head.store(seq, Ordering::Release);
    }
}
