//! [`Store`]: where a hub's ids come from and where old events are replayed
//! from, so that several server processes can share one log.

use std::error::Error;
use std::fmt;
use std::future::{Future, ready};
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;

use super::{Epoch, PublishKey};
use crate::Text;

/// A future returned by a [`Store`].
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What a shared store reports of the events appended by every process; see
/// [`Store::feed`].
pub type Feed = Pin<Box<dyn Stream<Item = FeedItem> + Send>>;

/// One report of a [`Feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedItem {
    /// Events appended to followed topics, by sequence number (an event in
    /// several followed topics comes once per topic). Every event up to
    /// `through` in the followed topics has now been reported: the hub lets
    /// its readers go that far.
    Events {
        /// The events, oldest first.
        events: Vec<FedEvent>,
        /// How far the report is complete.
        through: u64,
    },
    /// Events of `topic` up to `through` that were never reported can no
    /// longer be read (the store trimmed them, or lost them, while the feed
    /// was away). Subscribers behind it are told of a gap.
    Lost {
        /// The topic.
        topic: Text,
        /// The last sequence number that may be lost.
        through: u64,
    },
}

/// An event a [`Feed`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FedEvent {
    /// Its sequence number.
    pub seq: u64,
    /// The followed topic it was appended to.
    pub topic: Text,
    /// The event, encoded without its `id` line, as [`Store::append`] was
    /// given it.
    pub event: Bytes,
}

/// An event as a [`Store`] gives it back to be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its sequence number, as [`Store::append`] returned it.
    pub seq: u64,
    /// The event, encoded without its `id` line, as [`Store::append`] was
    /// given it.
    pub event: Bytes,
}

/// One round of a replay, as [`Store::replay_round`] gives it: the events,
/// and how far the round is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayRound {
    /// The events, oldest first.
    pub events: Vec<StoredEvent>,
    /// Every event of the topic after the round's `after`, up to here, is
    /// among `events`: the hub asks again after it for the rest.
    pub complete_through: u64,
}

impl ReplayRound {
    /// A round of `events`, complete through `complete_through`.
    pub fn new(events: Vec<StoredEvent>, complete_through: u64) -> Self {
        Self {
            events,
            complete_through,
        }
    }
}

/// What [`Store::append_keyed`] did: the event's sequence number, and
/// whether it was stored before, under the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Appended {
    /// The event's sequence number: for a duplicate, the one the first
    /// append under the key returned.
    pub seq: u64,
    /// The key was already stored, within the store's window: nothing was
    /// appended this time.
    pub duplicate: bool,
}

impl Appended {
    /// An event appended now, numbered `seq`.
    ///
    /// ```
    /// use sse_engine::hub::Appended;
    ///
    /// assert!(!Appended::new(7).duplicate);
    /// assert_eq!(Appended::duplicate_of(7).seq, 7);
    /// ```
    pub fn new(seq: u64) -> Self {
        Self {
            seq,
            duplicate: false,
        }
    }

    /// An append under a key already stored, as sequence number `seq`.
    pub fn duplicate_of(seq: u64) -> Self {
        Self {
            seq,
            duplicate: true,
        }
    }
}

/// The storage behind a hub's topics.
///
/// The hub always keeps each topic's recent events in memory, in its bounded
/// log, and subscribers read that. The store decides the ids: every event
/// published gets its sequence number from [`Store::append`] (so processes
/// sharing a store share one sequence), and a client whose cursor is older
/// than the in-memory log is served from [`Store::replay`] when the store
/// still has those events.
///
/// [`MemoryStore`](super::MemoryStore), the default, keeps nothing beyond the hub's logs
/// but the recent publish keys.
///
/// # Shared stores
///
/// A store that several processes share (the `sse-redis` crate's, for one)
/// also returns a [`Feed`]: the events every process appends, in one order.
/// A hub with a feed appends to its logs only what the feed reports, so that
/// every process holds the same events in the same order, and a client can
/// resume on any of them; [`Hub::publish`](super::Hub::publish) then returns
/// once the store has the event, and local subscribers receive it when the
/// feed brings it back. The hub tells the store which topics to report with
/// [`Store::follow`], and starts its sequence at [`Store::head`].
pub trait Store: Send + Sync + 'static {
    /// The epoch of every id this store gives.
    fn epoch(&self) -> Epoch;

    /// Stores `event` (encoded, without its `id` line) in each of `topics`
    /// and returns its sequence number, which must be greater than every one
    /// returned before. The hub calls it one publish at a time, unless the
    /// store has a feed (then the feed's order is the order). On an error
    /// the hub publishes nothing and reports it. Usually nothing was stored;
    /// but a shared store that sent the event and got no answer cannot
    /// know: its error then says the event may have been stored
    /// ([`StoreError::outcome_unknown`]; it may still reach subscribers
    /// through the feed), and a store that retries must not store it twice
    /// (the `sse-redis` and `sse-nats` stores key each append).
    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64>;

    /// As [`Store::append`], under a key the caller gave the publish
    /// ([`Hub::publish_keyed`](super::Hub::publish_keyed)): when an append
    /// under the same `key` was already stored, within the store's dedupe
    /// window, nothing is stored and the first one's sequence number comes
    /// back as a duplicate. Every process sharing the store must see the
    /// same keys. A store documents its window (how long, and how many
    /// keys, it remembers); after it, the key is new again.
    ///
    /// Only the key is compared, not the topics or the event.
    ///
    /// A store without a feed: the hub puts the event into its logs in the
    /// same poll in which this future returns. On a tokio runtime, a hub
    /// without a feed runs a keyed publish to its end once it started, even
    /// when the caller drops it (an HTTP server drops the handler of a
    /// client that went away, the very client that will retry); outside
    /// one it cannot, so keep a key only once the future returns, or forget
    /// it when the future is dropped before: a key kept for an event the
    /// hub never received answers the retry "duplicate", and subscribers
    /// never get the event.
    ///
    /// By default an error ([`StoreError::unsupported`], which a publish
    /// route answers with `501 Not Implemented`): a store that cannot
    /// deduplicate must not pretend to, or a retried publish would be
    /// delivered twice.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use bytes::Bytes;
    /// use sse_engine::Text;
    /// use sse_engine::hub::{MemoryStore, PublishKey, Store};
    ///
    /// let store = MemoryStore::new();
    /// let (topics, event) = ([Text::from("t")], Bytes::from_static(b"data: x\n\n"));
    /// let key = PublishKey::try_from("k-1").unwrap();
    /// let first = store.append_keyed(&topics, &event, &key).await.unwrap();
    /// let again = store.append_keyed(&topics, &event, &key).await.unwrap();
    /// assert_eq!((again.seq, again.duplicate), (first.seq, true));
    /// # }
    /// ```
    fn append_keyed<'a>(
        &'a self,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        let _ = (topics, event);
        Box::pin(ready(Err(StoreError::unsupported(format!(
            "this store does not deduplicate publishes by key; {key:?} was not published"
        )))))
    }

    /// Called by a hub without a feed when it could not put the event that
    /// [`Store::append_keyed`] just stored under `key`, as `seq`, into its
    /// logs (the hub or a topic was closed meanwhile), and the publish
    /// failed: a store that keeps nothing beyond the hub's logs forgets the
    /// key, so that it does not name an event nobody received. By default,
    /// nothing.
    fn forget_key(&self, key: &PublishKey, seq: u64) {
        let _ = (key, seq);
    }

    /// The events of `topic` with sequence numbers strictly between `after`
    /// and `before`, oldest first, each as `append` was given it, at most
    /// `limit` of them (the hub asks again after the last one when there are
    /// `limit`). `None` when the store no longer holds all of them: the
    /// subscriber is then told of a gap.
    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>>;

    /// One round of a replay: what [`Store::replay`] gives, and how far it
    /// is complete, so that a store can end a round before `limit` events
    /// (bounded by bytes, say: `limit` large events would make one reply
    /// of many megabytes). The hub asks again after `complete_through`.
    /// A round must hold at least one event when the store has one in the
    /// range; one without events is complete up to `before`.
    ///
    /// By default, [`Store::replay`]'s events, complete through the last
    /// when there are `limit`, else up to `before`.
    fn replay_round<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<ReplayRound>> {
        Box::pin(async move {
            let events = self.replay(topic, after, before, limit).await?;
            Ok(events.map(|events| {
                let complete_through = match events.last() {
                    Some(last) if events.len() >= limit => last.seq,
                    _ => before.saturating_sub(1),
                };
                ReplayRound::new(events, complete_through)
            }))
        })
    }

    /// The sequence number the store had reached when the hub was built: its
    /// readers start there. 0 unless the store is shared. The hub calls it
    /// once, before [`Store::feed`], so a feed reports what comes after it.
    fn head(&self) -> u64 {
        0
    }

    /// The sequence number the store has reached now. A hub asks when a
    /// client's cursor is newer than what its feed has reported for a
    /// while: a cursor up to here is waited for, a newer one was never given.
    fn head_now(&self) -> StoreFuture<'_, u64> {
        Box::pin(ready(Ok(self.head())))
    }

    /// The events appended by every process sharing the store, if it is
    /// shared. Called once, when the hub is built; the hub then runs it on
    /// the tokio runtime it is built in.
    fn feed(&self) -> Option<Feed> {
        None
    }

    /// Asks the feed to report `topic` too, from after sequence number
    /// `after` (the hub's head), and returns where the feed really starts
    /// reporting it: `after`, or later when the feed has already reported
    /// other topics past it (those reports, not yet applied by the hub,
    /// could not include this topic). The topic's log starts there; older
    /// cursors are replayed. Called when the hub creates the topic; must not
    /// block.
    fn follow(&self, topic: &Text, after: u64) -> u64 {
        let _ = topic;
        after
    }
}

/// A store shared with the application (to inspect it, or to hand it to
/// several hubs' wrappers) is a store.
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn epoch(&self) -> Epoch {
        (**self).epoch()
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        (**self).append(topics, event)
    }

    fn append_keyed<'a>(
        &'a self,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        (**self).append_keyed(topics, event, key)
    }

    fn forget_key(&self, key: &PublishKey, seq: u64) {
        (**self).forget_key(key, seq);
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        (**self).replay(topic, after, before, limit)
    }

    fn replay_round<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<ReplayRound>> {
        (**self).replay_round(topic, after, before, limit)
    }

    fn head(&self) -> u64 {
        (**self).head()
    }

    fn head_now(&self) -> StoreFuture<'_, u64> {
        (**self).head_now()
    }

    fn feed(&self) -> Option<Feed> {
        (**self).feed()
    }

    fn follow(&self, topic: &Text, after: u64) -> u64 {
        (**self).follow(topic, after)
    }
}

/// A store's failure, with its cause.
///
/// Usually nothing was stored. A shared store that sent the event and got
/// no answer cannot know: it says so with [`StoreError::outcome_unknown`],
/// and the event may still be stored, and reach subscribers. Publishing it
/// again is then safe only under the same [`PublishKey`].
#[derive(Debug)]
pub struct StoreError {
    cause: Box<dyn Error + Send + Sync>,
    kind: StoreErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreErrorKind {
    /// Nothing was stored.
    Failed,
    /// Sent and not answered: the event may have been stored.
    OutcomeUnknown,
    /// The store cannot do what was asked (nothing was stored).
    Unsupported,
}

impl StoreError {
    /// Wraps the cause: nothing was stored.
    pub fn new(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            cause: cause.into(),
            kind: StoreErrorKind::Failed,
        }
    }

    /// Wraps the cause of a failure after which the event may have been
    /// stored (sent, and not answered).
    ///
    /// ```
    /// use sse_engine::hub::StoreError;
    ///
    /// let error = StoreError::outcome_unknown("timed out");
    /// assert!(error.is_outcome_unknown());
    /// assert!(!StoreError::new("refused").is_outcome_unknown());
    /// ```
    pub fn outcome_unknown(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            cause: cause.into(),
            kind: StoreErrorKind::OutcomeUnknown,
        }
    }

    /// Wraps the cause of a refusal: the store cannot do what was asked
    /// (for example [`Store::append_keyed`] on a store that cannot
    /// deduplicate), now or on a retry, and stored nothing. A publish route
    /// answers it with `501 Not Implemented`
    /// ([`PublishError::status`](super::PublishError::status)).
    ///
    /// ```
    /// use sse_engine::hub::StoreError;
    ///
    /// let error = StoreError::unsupported("no publish keys here");
    /// assert!(error.is_unsupported());
    /// assert!(!error.is_outcome_unknown());
    /// assert!(!StoreError::new("refused").is_unsupported());
    /// ```
    pub fn unsupported(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            cause: cause.into(),
            kind: StoreErrorKind::Unsupported,
        }
    }

    /// Whether the event may have been stored despite the error.
    pub fn is_outcome_unknown(&self) -> bool {
        self.kind == StoreErrorKind::OutcomeUnknown
    }

    /// Whether the store cannot do what was asked at all
    /// ([`StoreError::unsupported`]): trying again will not help.
    pub fn is_unsupported(&self) -> bool {
        self.kind == StoreErrorKind::Unsupported
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StoreErrorKind::Failed => write!(f, "event store failed: {}", self.cause),
            StoreErrorKind::OutcomeUnknown => write!(
                f,
                "event store did not answer; the event may have been stored: {}",
                self.cause
            ),
            StoreErrorKind::Unsupported => {
                write!(f, "event store cannot do this: {}", self.cause)
            }
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.cause)
    }
}
