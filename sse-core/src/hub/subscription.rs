//! [`Subscription`]: a cursor into the logs of one or more topics.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use super::handle::{HubInner, lock};
use super::stats::{Counters, SubscriberCounts};
use super::tail::{Onward, TailReader};
use super::topic::{Entry, ReadEntry, Topic};
use super::{Gap, GapReason, LagPolicy, Position, StoreError};
use crate::jitter::{shorten, spread};
use crate::{EncodedEvent, Event, InfallibleStream, KeepAlive, LastEventId, SseBody, Text};

/// An event as a subscription's filter sees it.
#[derive(Debug, Clone, Copy)]
pub struct PublishedEvent<'a> {
    topic: &'a str,
    position: Position,
    event_type: Option<&'a str>,
    data: Option<&'a str>,
}

impl<'a> PublishedEvent<'a> {
    /// The topic it was read from.
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// Its id.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Its event type, if it has one.
    pub fn event_type(&self) -> Option<&'a str> {
        self.event_type
    }

    /// Its data, if it has any.
    pub fn data(&self) -> Option<&'a str> {
        self.data
    }
}

type Filter = Arc<dyn Fn(&PublishedEvent<'_>) -> bool + Send + Sync>;
/// What a replay round brought back: per subscribed topic, its events (or
/// `None` when the store no longer has them all) and how far the round went.
type Restored = Result<Vec<(usize, u64, Option<Vec<(u64, Bytes)>>)>, StoreError>;

/// A replay from the store under way, for gaps in the in-memory logs.
struct Replay {
    future: Pin<Box<dyn Future<Output = Restored> + Send>>,
    topics: Vec<usize>,
    reason: GapReason,
    through: u64,
    requested: Option<LastEventId>,
    attempt: u32,
}

/// A replay that failed, to be tried again after a pause.
struct ReplayRetry {
    pause: Pin<Box<Sleep>>,
    topics: Vec<usize>,
    reason: GapReason,
    through: u64,
    attempt: u32,
}

/// How many times a failing replay is tried before the client is told of a
/// gap: a store that is briefly away (a Redis restart) loses the client
/// nothing; one that stays away does not hold it back for ever.
const REPLAY_ATTEMPTS: u32 = 4;

/// The pause before trying a failed replay again: 100 ms, then 400 ms,
/// then 1.6 s.
fn replay_pause(attempt: u32) -> Duration {
    Duration::from_millis(100 * 4u64.pow(attempt.saturating_sub(1).min(4)))
}

/// How the client's cursor, newer than this process's feed, is being checked.
enum Ahead {
    /// Waiting for the feed to catch up, until then.
    Waiting(Instant, Option<Pin<Box<Sleep>>>),
    /// Asking the store whether it gave that id.
    Checking(Pin<Box<dyn Future<Output = Result<u64, StoreError>> + Send>>),
}
type GapHandler = Arc<dyn Fn(&Gap) -> Vec<Event> + Send + Sync>;

/// A subscriber: a cursor into the logs of its topics, read as a `Stream` of
/// encoded events. Made by [`Hub::subscribe`](super::Hub::subscribe).
///
/// It holds no queue of its own: a subscriber that reads slowly is only an
/// old cursor, and when the log evicts events it has not read, it is told
/// with a [`Gap`] (or closed, by the hub's [`LagPolicy`]). Dropping it
/// releases it at once.
///
/// A subscriber that is caught up reads new events without taking the
/// topic's lock, from blocks of eight events it holds one at a time. One that
/// stops reading (its client's connection is stalled) keeps that one block
/// alive, at most eight events, whatever is published after.
#[must_use = "streams do nothing unless polled"]
pub struct Subscription {
    hub: Arc<HubInner>,
    topics: Vec<Subscribed>,
    /// The last position delivered or skipped: reading resumes strictly after it.
    cursor: u64,
    /// Events up to here were in the log before the subscription was made.
    replay_through: u64,
    requested: Option<LastEventId>,
    start_gap: Option<GapReason>,
    first_read: bool,
    queued: VecDeque<EncodedEvent>,
    // Boxed, like the other rare states: an idle subscriber is mostly its
    // cursor, and its size is memory held per connection.
    replay: Option<Box<Replay>>,
    replay_retry: Option<Box<ReplayRetry>>,
    /// Events the store replayed, with the index of their topic, oldest
    /// first; merged with the logs by sequence number.
    restored: VecDeque<(ReadEntry, usize)>,
    /// Per topic, how far its evicted events have been dealt with (replayed
    /// from the store, or signalled as a gap): a gap up to here is not raised
    /// again.
    handled: Vec<u64>,
    filter: Option<Filter>,
    on_gap: Option<GapHandler>,
    lifetime: Option<Duration>,
    deadline: Option<Pin<Box<Sleep>>>,
    retry: Option<Duration>,
    finished: bool,
    /// Set when the last locked read left this subscriber caught up in every
    /// topic, with a place in each topic's tail: until a topic closes or
    /// loses events, it reads the tails, without a lock.
    armed: Option<Armed>,
    /// The waker registered in every topic, by identity (see
    /// [`waker_identity`]). Publishing does not take it, so it is
    /// registered again only when the subscriber is polled with another.
    registered: Option<(usize, usize)>,
    counts: Arc<SubscriberCounts>,
    counts_index: usize,
    /// For a hub on a shared store: the client's cursor is newer than what
    /// this process has seen yet (it was given by another process a moment
    /// ago). Reading waits until then for the feed to catch up; a cursor
    /// still ahead after that is unknown.
    ahead: Option<Box<Ahead>>,
}

/// How long a cursor ahead of a shared store's feed may wait for it.
const AHEAD_WAIT: Duration = Duration::from_secs(2);

/// What [`Subscription::armed`] was armed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Armed {
    /// The hub's count of rereads when the read began.
    rereads: u64,
    /// The registered waker, by identity only (see [`waker_identity`]).
    waker: (usize, usize),
}

/// A waker's identity, as [`Waker::will_wake`](std::task::Waker::will_wake)
/// compares it. Kept as numbers, not pointers, and only ever compared with
/// the identity of a waker that is registered in every topic, so alive and
/// its address not reused: a registered waker stays until the subscriber
/// replaces it or leaves.
fn waker_identity(waker: &std::task::Waker) -> (usize, usize) {
    (
        waker.data() as usize,
        std::ptr::from_ref(waker.vtable()) as usize,
    )
}

struct Subscribed {
    topic: Arc<Topic>,
    slot: usize,
    /// Where this subscriber reads the topic's tail, while it is armed.
    tail: Option<TailReader>,
}

enum AheadCheck {
    CaughtUp,
    Wait,
    Unknown,
}

enum Read {
    Event(Candidate),
    /// Topics whose evicted events after the cursor have not been dealt with.
    Gap {
        through: u64,
        topics: Vec<usize>,
    },
    InFlight,
    Closed,
    Pending,
}

struct Candidate {
    entry: ReadEntry,
    topic: usize,
    restored: bool,
}

impl Subscription {
    /// A subscription for a client whose cursor could not be read: it starts
    /// with an `unknown` gap.
    pub(crate) fn new_unusable_cursor(hub: Arc<HubInner>, topics: Vec<Arc<Topic>>) -> Self {
        let mut subscription = Self::new(hub, topics, None);
        subscription.start_gap = Some(GapReason::Unknown);
        subscription
    }

    pub(crate) fn new(
        hub: Arc<HubInner>,
        topics: Vec<Arc<Topic>>,
        requested: Option<LastEventId>,
    ) -> Self {
        let head = hub.published_through.load(Ordering::Acquire);
        let mut ahead = None;
        let (cursor, start_gap) = match requested.as_ref().map(|id| Position::parse(id.as_str())) {
            None => (head, None),
            Some(None) => (head, Some(GapReason::Unknown)),
            Some(Some(position)) if position.epoch() != hub.epoch => {
                (head, Some(GapReason::Foreign))
            }
            Some(Some(position)) if position.seq() > head && hub.fed => {
                ahead = Some(Box::new(Ahead::Waiting(Instant::now() + AHEAD_WAIT, None)));
                (position.seq(), None)
            }
            Some(Some(position)) if position.seq() > head => (head, Some(GapReason::Unknown)),
            Some(Some(position)) => (position.seq(), None),
        };
        let handled = vec![0; topics.len()];
        let topics = topics
            .into_iter()
            .map(|topic| {
                topic.lock().subscribers += 1;
                let slot = topic.wakers().insert();
                Subscribed {
                    topic,
                    slot,
                    tail: None,
                }
            })
            .collect();
        hub.counters.subscribers.fetch_add(1, Ordering::AcqRel);
        let (counts, counts_index) = hub.counters.join();
        tracing::debug!(
            cursor = requested.as_ref().map(LastEventId::as_str),
            gap = start_gap.map(GapReason::as_str),
            "subscribed"
        );
        Self {
            hub,
            topics,
            cursor,
            replay_through: head,
            requested,
            start_gap,
            first_read: true,
            queued: VecDeque::new(),
            replay: None,
            replay_retry: None,
            restored: VecDeque::new(),
            handled,
            filter: None,
            on_gap: None,
            lifetime: None,
            deadline: None,
            retry: None,
            finished: false,
            armed: None,
            registered: None,
            counts,
            counts_index,
            ahead,
        }
    }

    /// Delivers only the events `filter` accepts, replayed and live alike: for
    /// authorization, or a per-client selection. A filter that panics is taken
    /// to refuse the event (and the panic is logged); the hub goes on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futures_util::StreamExt;
    /// use sse_engine::Event;
    /// use sse_engine::hub::Hub;
    ///
    /// let hub = Hub::new();
    /// let mut mine = hub
    ///     .subscribe(&["orders"], None)
    ///     .unwrap()
    ///     .filter(|event| event.event_type() == Some("order-7"));
    /// hub.publish("orders", Event::new().event("order-6").data("not yours")).await.unwrap();
    /// hub.publish("orders", Event::new().event("order-7").data("yours")).await.unwrap();
    /// let delivered = mine.next().await.unwrap();
    /// assert!(delivered.as_bytes().ends_with(b"data: yours\n\n"));
    /// # }
    /// ```
    pub fn filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&PublishedEvent<'_>) -> bool + Send + Sync + 'static,
    {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// Sends what `handler` returns instead of the default gap event: a
    /// snapshot of the state the client missed, for example. When none of the
    /// returned events has an id, the last one gets the gap's
    /// [`resume_after`](Gap::resume_after), so that the client's
    /// `Last-Event-ID` moves past the gap. A handler that panics is replaced by
    /// the default gap event (and the panic is logged). A handler that returns
    /// no event sends nothing: the client is not told and its cursor does not
    /// move, so it meets the same gap when it reconnects.
    pub fn on_gap<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Gap) -> Vec<Event> + Send + Sync + 'static,
    {
        self.on_gap = Some(Arc::new(handler));
        self
    }

    /// Ends the stream after about `lifetime`, shortened at random by up to a
    /// tenth so that clients connected together do not reconnect together.
    /// The client reconnects with its last id and loses nothing.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The reconnection delay [`Subscription::into_body`] sends first,
    /// lengthened at random by up to a half so that clients that lose the
    /// server together do not come back together.
    pub fn retry(mut self, base: Duration) -> Self {
        self.retry = Some(base);
        self
    }

    /// The position after which reading resumes.
    pub fn cursor(&self) -> Position {
        Position::new(self.hub.epoch, self.cursor)
    }

    /// The subscription as a response body, with a 15 s keep-alive and the
    /// [`retry`](Subscription::retry) delay if one was set.
    pub fn into_body(self) -> SseBody<InfallibleStream<Self>> {
        let retry = self.retry.map(|base| spread(base, 0.5));
        let body = SseBody::from_infallible_stream(self).keep_alive(KeepAlive::new());
        match retry {
            Some(retry) => body.retry(retry),
            None => body,
        }
    }

    /// Checks a cursor newer than this process's feed: caught up with, still
    /// to wait for (the reading below then waits too: nothing is readable
    /// past the head, and its waker is registered), or found never given,
    /// in which case the client is told of an unknown cursor and reading
    /// starts from here.
    fn poll_ahead(&mut self, cx: &mut Context<'_>) -> AheadCheck {
        loop {
            let head = self.hub.published_through.load(Ordering::Acquire);
            if head >= self.cursor {
                return AheadCheck::CaughtUp;
            }
            match self.ahead.as_deref_mut() {
                None => return AheadCheck::CaughtUp,
                Some(Ahead::Waiting(until, sleep)) => {
                    let sleep =
                        sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(*until)));
                    if sleep.as_mut().poll(cx).is_pending() {
                        return AheadCheck::Wait;
                    }
                    // The feed is slow (reconnecting, perhaps): ask the store.
                    let store = self.hub.store.clone();
                    self.ahead = Some(Box::new(Ahead::Checking(Box::pin(async move {
                        store.head_now().await
                    }))));
                }
                Some(Ahead::Checking(check)) => {
                    let Poll::Ready(answer) = check.as_mut().poll(cx) else {
                        return AheadCheck::Wait;
                    };
                    match answer {
                        Ok(store_head) if self.cursor > store_head => {
                            // Not an id this store gave.
                            self.ahead = None;
                            self.cursor = head;
                            self.first_read = false;
                            let requested = self.requested.take();
                            let gap = self.gap(GapReason::Unknown, head, requested);
                            self.signal_gap(&gap);
                            return AheadCheck::Unknown;
                        }
                        answer => {
                            if let Err(error) = answer {
                                tracing::warn!(%error, "cannot ask the store about a cursor; waiting");
                            }
                            self.ahead =
                                Some(Box::new(Ahead::Waiting(Instant::now() + AHEAD_WAIT, None)));
                        }
                    }
                }
            }
        }
    }

    /// Reads on from the topics' tails, without a lock, while the last
    /// locked read left this subscriber armed and nothing has closed or been
    /// lost since: the next event, or `Pending` when there is none (its
    /// waker is in every topic). `None` when only a locked read can tell: an
    /// event still being appended, evicted events, a tail it fell behind.
    fn read_tails(&mut self, cx: &Context<'_>) -> Option<Poll<EncodedEvent>> {
        let armed = self.armed?;
        if armed.waker != waker_identity(cx.waker())
            || self.filter.is_some()
            || !self.restored.is_empty()
        {
            return None;
        }
        let cursor = self.cursor;
        let max_age = self.hub.limits.max_age;
        // Loaded before any tail is looked at: every event up to it is in
        // all of its topics' tails by then, so none of them can appear in a
        // tail already passed while a later one is read from another.
        let head = self.hub.published_through.load(Ordering::Acquire);
        let mut best: Option<(usize, u64, Bytes)> = None;
        for (index, subscribed) in self.topics.iter_mut().enumerate() {
            let reader = subscribed.tail.as_mut()?;
            // An event published to several topics is in each of their
            // tails: the copies after the first one read are passed over.
            let found = loop {
                if let Some(entry) = reader.entry() {
                    if entry.seq > cursor {
                        break Some((entry.seq, entry.published_at));
                    }
                    reader.advance();
                    continue;
                }
                match reader.onward() {
                    Onward::Moved => {}
                    Onward::Nothing => break None,
                    Onward::Behind => return None,
                }
            };
            let Some((seq, published_at)) = found else {
                continue;
            };
            // Read after the entry, so that whatever was evicted or marked
            // lost before it was appended shows.
            let evicted = subscribed.topic.evicted_through();
            if cursor < evicted && self.handled[index] < evicted {
                return None;
            }
            if max_age.is_some_and(|age| published_at.elapsed() > age) {
                return None;
            }
            if best.as_ref().is_none_or(|(_, best, _)| seq < *best) {
                let bytes = reader.entry()?.bytes.clone();
                best = Some((index, seq, bytes));
            }
        }
        // Also read after the entries: a close or a loss reported before
        // they were appended shows here.
        if self.hub.rereads.load(Ordering::Acquire) != armed.rereads {
            return None;
        }
        let Some((index, seq, bytes)) = best else {
            return Some(Poll::Pending);
        };
        // One beyond the head may have a predecessor still being appended,
        // or appended to a tail looked at before it was.
        if seq > head {
            return None;
        }
        self.topics[index].tail.as_mut()?.advance();
        self.cursor = seq;
        Some(Poll::Ready(self.delivered(seq, bytes)))
    }

    fn read(&mut self, cx: &mut Context<'_>) -> Read {
        // Loaded before any topic is locked: a close or a loss that this
        // read does not see has changed it, and the tails are not trusted.
        let rereads = self.hub.rereads.load(Ordering::Acquire);
        let head = self.hub.published_through.load(Ordering::Acquire);
        let waker = waker_identity(cx.waker());
        let register = self.registered != Some(waker);
        let limits = &self.hub.limits;
        let now = limits.max_age.map(|_| Instant::now());
        let with_meta = self.filter.is_some();
        let mut best: Option<Candidate> = None;
        let mut gap_through = 0;
        let mut gapped = Vec::new();
        let mut in_flight = false;
        let mut closed = false;
        let mut caught_up_everywhere = true;
        for (index, subscribed) in self.topics.iter_mut().enumerate() {
            if register {
                subscribed
                    .topic
                    .wakers()
                    .register(subscribed.slot, cx.waker());
            }
            let mut state = subscribed.topic.lock();
            if let Some(now) = now {
                state.evict(limits, now);
            }
            let evicted = state.evicted_through();
            if self.cursor < evicted && self.handled[index] < evicted {
                gap_through = gap_through.max(evicted);
                gapped.push(index);
                subscribed.tail = None;
                caught_up_everywhere = false;
                continue;
            }
            let newest = state.newest_seq();
            // The tail is read from here on wherever nothing will be left to
            // read once the candidate is: no event after the cursor, or only
            // the one about to be read (the tail starts at it: read already,
            // it is passed over; not read, when another topic's candidate
            // came first, it is read next).
            let drained = match state.first_after(self.cursor) {
                Some(entry) if entry.seq <= head => {
                    if best.as_ref().is_none_or(|best| entry.seq < best.entry.seq) {
                        best = Some(Candidate {
                            entry: entry.read(with_meta),
                            topic: index,
                            restored: false,
                        });
                    }
                    newest == Some(entry.seq)
                }
                Some(_) => {
                    in_flight = true;
                    false
                }
                None if state.closed => {
                    closed = true;
                    false
                }
                None => true,
            };
            // A closed topic's end is only seen under the lock.
            let on_tail = drained && !state.closed;
            subscribed.tail = on_tail.then(|| state.tail.reader());
            caught_up_everywhere &= on_tail;
        }
        self.registered = Some(waker);
        self.armed = (caught_up_everywhere && !in_flight && !closed && gapped.is_empty())
            .then_some(Armed { rereads, waker });
        // Replayed events merge with the logs, oldest first; an event that was
        // in several topics comes once (whichever copy is read first).
        while self
            .restored
            .front()
            .is_some_and(|(entry, _)| entry.seq <= self.cursor)
        {
            self.restored.pop_front();
        }
        if let Some((entry, topic)) = self.restored.front() {
            if best.as_ref().is_none_or(|best| entry.seq < best.entry.seq) {
                best = Some(Candidate {
                    entry: entry.clone(),
                    topic: *topic,
                    restored: true,
                });
            }
        }
        // Events a replay brought back are delivered before the next round is
        // asked for (the smallest candidate is never past them), so that at
        // most one round is held at a time.
        if gap_through > 0 && self.restored.is_empty() {
            Read::Gap {
                through: gap_through,
                topics: gapped,
            }
        } else if let Some(best) = best {
            Read::Event(best)
        } else if in_flight {
            Read::InFlight
        } else if closed {
            Read::Closed
        } else {
            Read::Pending
        }
    }

    /// Asks the store for the evicted events of `topics`, each from where it
    /// was last dealt with, at most one log's worth per topic per round, so
    /// that memory stays bounded however old the cursor. A round ends, for
    /// every topic, where the first topic to fill its share ended: the
    /// events restored are then complete up to there, across topics.
    fn start_replay(&mut self, topics: Vec<usize>, reason: GapReason, through: u64, attempt: u32) {
        let store = self.hub.store.clone();
        let limit = self.hub.limits.max_events.max(1);
        let requests: Vec<(usize, Text, u64)> = topics
            .iter()
            .map(|&index| {
                let after = self.cursor.max(self.handled[index]);
                (index, self.topics[index].topic.name.clone(), after)
            })
            .collect();
        let future = async move {
            let mut answers = Vec::with_capacity(requests.len());
            let mut round_end = through;
            for (index, name, after) in requests {
                let events = store
                    .replay(&name, after, through.saturating_add(1), limit)
                    .await?;
                let events = events.map(|mut events| {
                    events.retain(|(seq, _)| *seq > after && *seq <= through);
                    events.truncate(limit);
                    if events.len() == limit {
                        if let Some((last, _)) = events.last() {
                            round_end = round_end.min(*last);
                        }
                    }
                    events
                });
                answers.push((index, events));
            }
            let rounds = answers
                .into_iter()
                .map(|(index, events)| {
                    let events = events.map(|mut events| {
                        events.retain(|(seq, _)| *seq <= round_end);
                        events
                    });
                    (index, round_end, events)
                })
                .collect();
            Ok(rounds)
        };
        self.replay = Some(Box::new(Replay {
            future: Box::pin(future),
            topics,
            reason,
            through,
            requested: self.requested.take(),
            attempt,
        }));
    }

    fn finish_replay(&mut self, replay: Replay, restored: Restored) {
        let rounds = match restored {
            Ok(rounds) => rounds,
            Err(error) if replay.attempt < REPLAY_ATTEMPTS => {
                let pause = replay_pause(replay.attempt);
                tracing::warn!(%error, attempt = replay.attempt, ?pause, "replay from the store failed; trying again");
                self.requested = replay.requested;
                self.replay_retry = Some(Box::new(ReplayRetry {
                    pause: Box::pin(tokio::time::sleep(pause)),
                    topics: replay.topics,
                    reason: replay.reason,
                    through: replay.through,
                    attempt: replay.attempt + 1,
                }));
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "replay from the store failed again; signalling a gap");
                Vec::new()
            }
        };
        let complete = !rounds.is_empty() && rounds.iter().all(|(_, _, events)| events.is_some());
        if !complete {
            // The store cannot fill the gap: every gapped topic is dealt with
            // up to `through` by the signal.
            for index in 0..self.topics.len() {
                let evicted = self.topics[index].topic.lock().evicted_through();
                if self.cursor < evicted {
                    self.handled[index] = self.handled[index].max(replay.through);
                }
            }
            self.gap_at(replay.reason, replay.through, replay.requested);
            return;
        }
        let with_meta = self.filter.is_some();
        let mut restored = Vec::new();
        for (index, until, events) in rounds {
            self.handled[index] = self.handled[index].max(until);
            for (seq, body) in events.unwrap_or_default() {
                let position = Position::new(self.hub.epoch, seq);
                let entry = Entry::new(position, &body).read(with_meta);
                restored.push((entry, index));
            }
        }
        tracing::debug!(
            count = restored.len(),
            through = replay.through,
            "replayed from the store"
        );
        restored.extend(self.restored.drain(..));
        restored.sort_by_key(|(entry, _)| entry.seq);
        restored.dedup_by_key(|(entry, _)| entry.seq);
        self.restored = restored.into();
        // Whatever was asked for was given back: the client's cursor stays
        // valid, and the next read merges these events with the logs (or
        // starts the next round, still as part of the client's resume).
        self.first_read = replay.requested.is_some();
        self.requested = replay.requested;
    }

    /// Signals a gap, moving the cursor only as far as no retained event is
    /// skipped: to `through`, or to just before the oldest event still held in
    /// any subscribed topic, whichever comes first.
    fn gap_at(&mut self, reason: GapReason, through: u64, requested: Option<LastEventId>) {
        let next = self
            .topics
            .iter()
            .filter_map(|subscribed| {
                subscribed
                    .topic
                    .lock()
                    .first_after(self.cursor)
                    .map(|entry| entry.seq)
            })
            .chain(self.restored.front().map(|(entry, _)| entry.seq))
            .min();
        let resume_after = match next {
            Some(next) => through.min(next.saturating_sub(1)),
            None => through,
        }
        .max(self.cursor);
        self.cursor = resume_after;
        let requested = if reason == GapReason::Lagged {
            None
        } else {
            requested
        };
        let gap = self.gap(reason, resume_after, requested);
        self.signal_gap(&gap);
    }

    /// Delivers `entry` if the filter allows it.
    fn deliver(&self, entry: ReadEntry, topic: usize) -> Option<EncodedEvent> {
        if !self.allows(&entry, topic) {
            return None;
        }
        Some(self.delivered(entry.seq, entry.bytes))
    }

    /// The event at `seq`, counted as delivered.
    fn delivered(&self, seq: u64, bytes: Bytes) -> EncodedEvent {
        self.counts.delivered(seq <= self.replay_through);
        let id = Position::new(self.hub.epoch, seq).to_event_id();
        EncodedEvent::from_parts(bytes, Some(id))
    }

    fn allows(&self, entry: &ReadEntry, topic: usize) -> bool {
        let Some(filter) = &self.filter else {
            return true;
        };
        let event = PublishedEvent {
            topic: &self.topics[topic].topic.name,
            position: Position::new(self.hub.epoch, entry.seq),
            event_type: entry
                .meta
                .as_ref()
                .and_then(|meta| meta.event_type.as_deref()),
            data: entry.meta.as_ref().and_then(|meta| meta.data.as_deref()),
        };
        match catch_unwind(AssertUnwindSafe(|| filter(&event))) {
            Ok(allowed) => allowed,
            Err(_) => {
                tracing::error!(id = %event.position, "subscription filter panicked; event not delivered");
                false
            }
        }
    }

    fn signal_gap(&mut self, gap: &Gap) {
        let counters = &self.hub.counters;
        Counters::add(&counters.gaps, 1);
        if gap.reason == GapReason::Lagged {
            Counters::add(&counters.lagged, 1);
        }
        tracing::debug!(reason = %gap.reason, resume_after = %gap.resume_after, "gap");
        let default = || gap.to_event(&self.hub.gap_event);
        let mut events = match &self.on_gap {
            None => vec![default()],
            Some(handler) => catch_unwind(AssertUnwindSafe(|| handler(gap))).unwrap_or_else(|_| {
                tracing::error!("gap handler panicked; sending the default gap event");
                vec![default()]
            }),
        };
        if events.iter().all(|event| event.get_id().is_none()) {
            if let Some(last) = events.pop() {
                events.push(last.id(gap.resume_after.to_event_id()));
            }
        }
        self.queued.extend(events.into_iter().map(Event::encode));
    }

    fn gap(&self, reason: GapReason, through: u64, requested: Option<LastEventId>) -> Gap {
        Gap {
            reason,
            requested,
            resume_after: Position::new(self.hub.epoch, through),
        }
    }
}

impl Stream for Subscription {
    type Item = EncodedEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EncodedEvent>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.queued.pop_front() {
                return Poll::Ready(Some(event));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(lifetime) = this.lifetime.take() {
                this.deadline = Some(Box::pin(tokio::time::sleep(shorten(lifetime, 0.1))));
            }
            if let Some(deadline) = this.deadline.as_mut() {
                if deadline.as_mut().poll(cx).is_ready() {
                    tracing::debug!("subscription reached its maximum lifetime");
                    this.finished = true;
                    continue;
                }
            }
            if let Some(retry) = this.replay_retry.as_mut() {
                if retry.pause.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if let Some(retry) = this.replay_retry.take() {
                    this.start_replay(retry.topics, retry.reason, retry.through, retry.attempt);
                }
            }
            if let Some(mut replay) = this.replay.take() {
                match replay.future.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.replay = Some(replay);
                        return Poll::Pending;
                    }
                    Poll::Ready(restored) => {
                        this.finish_replay(*replay, restored);
                        continue;
                    }
                }
            }
            if let Some(reason) = this.start_gap.take() {
                this.first_read = false;
                let requested = this.requested.take();
                let gap = this.gap(reason, this.cursor, requested);
                this.signal_gap(&gap);
                continue;
            }
            if this.ahead.is_some() {
                match this.poll_ahead(cx) {
                    AheadCheck::CaughtUp => this.ahead = None,
                    AheadCheck::Wait => this.armed = None,
                    AheadCheck::Unknown => continue,
                }
            }
            match this.read_tails(cx) {
                Some(Poll::Ready(event)) => return Poll::Ready(Some(event)),
                Some(Poll::Pending) => return Poll::Pending,
                None => {}
            }
            let read = this.read(cx);
            let first_read = std::mem::replace(&mut this.first_read, false);
            match read {
                Read::Event(candidate) => {
                    this.cursor = candidate.entry.seq;
                    if candidate.restored {
                        this.restored.pop_front();
                    }
                    if let Some(event) = this.deliver(candidate.entry, candidate.topic) {
                        return Poll::Ready(Some(event));
                    }
                }
                Read::Gap { through, topics } => {
                    let reason = if first_read && this.requested.is_some() {
                        GapReason::Evicted
                    } else {
                        GapReason::Lagged
                    };
                    if reason == GapReason::Lagged && this.hub.lag_policy == LagPolicy::Close {
                        Counters::add(&this.hub.counters.gaps, 1);
                        Counters::add(&this.hub.counters.lagged, 1);
                        tracing::debug!("subscriber lagged; closing its stream");
                        this.cursor = through;
                        this.finished = true;
                        continue;
                    }
                    this.start_replay(topics, reason, through, 1);
                }
                Read::InFlight => {
                    // An event is being appended to the logs right now; it is
                    // readable in a moment.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Read::Closed => {
                    this.finished = true;
                    if let Some(last) = lock(&this.hub.final_event).clone() {
                        this.queued.push_back(last);
                    }
                }
                Read::Pending => return Poll::Pending,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.counters.leave(self.counts_index);
        for subscribed in &self.topics {
            subscribed.topic.wakers().remove(subscribed.slot);
            subscribed.topic.lock().subscribers -= 1;
        }
        if self.hub.counters.subscribers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.hub.idle.notify_waiters();
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field(
                "topics",
                &self
                    .topics
                    .iter()
                    .map(|t| t.topic.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("cursor", &self.cursor())
            .field("queued", &self.queued.len())
            .field("filter", &self.filter.is_some())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::Ordering;
    use std::task::{Context, Poll};

    use futures_core::Stream;
    use futures_util::task::noop_waker_ref;

    use crate::Event;
    use crate::hub::{Hub, Position};

    #[tokio::test]
    async fn a_reader_never_passes_an_event_still_being_appended() {
        let hub = Hub::new();
        let zero = Position::new(hub.epoch(), 0).to_string();
        let cursor = crate::LastEventId::parse(zero.as_bytes()).unwrap();
        let subscription = hub.subscribe(&["a", "b"], cursor).unwrap();
        let mut subscription = pin!(subscription);
        hub.publish("a", Event::new().data("1")).await.unwrap();
        hub.publish("b", Event::new().data("2")).await.unwrap();
        // As if event 2 were in its log but its publish not finished, and
        // event 1 not yet visible: the reader must wait, not deliver 2 and
        // move its cursor past 1.
        hub.inner.published_through.store(0, Ordering::Release);
        let mut cx = Context::from_waker(noop_waker_ref());
        assert!(subscription.as_mut().poll_next(&mut cx).is_pending());
        hub.inner.published_through.store(2, Ordering::Release);
        let Poll::Ready(Some(first)) = subscription.as_mut().poll_next(&mut cx) else {
            panic!("event 1 is readable once published");
        };
        assert!(first.as_bytes().ends_with(b"data: 1\n\n"));
    }
}
