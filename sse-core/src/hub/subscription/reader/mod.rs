//! [`Reader`]: a subscription's cursor in its topics' logs, and the two read
//! paths: under each topic's lock ([`Reader::read`]), and on from the tails
//! without a lock once caught up ([`Reader::read_tails`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use smallvec::SmallVec;
use tokio::time::Instant;

use super::super::StoredEvent;
use super::super::shared::Shared;
use super::super::tail::{Onward, TailReader};
use super::super::topic::{ReadEntry, Topic};
use super::super::wakers::Wakeup;
use crate::waker_identity::WakerIdentity;

mod gaps;

/// Where a subscription is in the logs of its topics.
pub(super) struct Reader {
    /// Inline for one topic, the usual case: one allocation less to reach
    /// on every read.
    topics: SmallVec<[Subscribed; 1]>,
    /// The last position delivered or skipped: reading resumes strictly after it.
    cursor: u64,
    /// Per topic, how far its evicted and lost events have been dealt with
    /// (replayed from the store, or signalled as a gap; from the start, the
    /// cursor the subscription began at): a gap up to here is not raised
    /// again.
    handled: Vec<u64>,
    /// Events the store replayed, oldest first; merged with the logs by
    /// sequence number.
    restored: VecDeque<Restored>,
    /// Set when the last locked read left this subscriber caught up in every
    /// topic, with a place in each topic's tail: until a topic closes or
    /// loses events, it reads the tails, without a lock.
    armed: Option<Armed>,
    /// The waker registered in every topic, by identity. Publishing does not
    /// take it, so it is registered again only when the subscriber is polled
    /// with another.
    registered: Option<WakerIdentity>,
    /// Whether it was woken and has not been polled since; the same in
    /// every topic's slot.
    wakeup: Arc<Wakeup>,
}

struct Subscribed {
    topic: Arc<Topic>,
    slot: usize,
    /// Where this subscriber reads the topic's tail, while it is armed.
    tail: Option<TailReader>,
}

/// An event the store replayed, and the index of the topic it was asked for.
struct Restored {
    entry: ReadEntry,
    topic: usize,
}

/// What [`Reader::armed`] was armed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Armed {
    /// The hub's count of rereads when the read began.
    rereads: u64,
    waker: WakerIdentity,
}

/// An event read from a tail.
pub(super) struct TailRead {
    pub(super) seq: u64,
    pub(super) bytes: Bytes,
    /// Nothing more was readable from the tails just after it (looked at in
    /// one topic only: with several, another may have more).
    pub(super) last_ready: bool,
}

/// What a locked read found.
pub(super) enum Read {
    Event(Candidate),
    /// Topics where the reader has reached events a store reported lost,
    /// not dealt with, each with where its loss ends; the gap signalled ends
    /// at the first of them. Nothing can fill it.
    Lost {
        topics: Vec<(usize, u64)>,
    },
    /// Topics whose evicted events after the cursor have not been dealt with.
    Gap {
        through: u64,
        topics: Vec<usize>,
        /// A store reported events after the cursor lost (in one of the
        /// topics): the gap is its loss, whatever else it is.
        lost: bool,
    },
    /// An event is being appended to the logs right now.
    InFlight,
    Closed,
    Pending,
}

/// The next event to deliver: the oldest after the cursor in any topic.
pub(super) struct Candidate {
    pub(super) entry: ReadEntry,
    pub(super) topic: usize,
    restored: bool,
}

impl Candidate {
    /// Whether it comes from a replay round rather than a log.
    pub(super) fn is_restored(&self) -> bool {
        self.restored
    }
}

/// What the store gave back for one topic in a replay round.
#[derive(Debug)]
pub(super) struct RestoredTopic {
    /// The topic's index in the subscription.
    pub(super) topic: usize,
    /// How far the round went: the events up to here are all there.
    pub(super) through: u64,
    /// The events, or `None` when the store no longer has them all.
    pub(super) events: Option<Vec<StoredEvent>>,
}

/// One topic's share of a replay round: its name and where to read after.
#[derive(Debug, Clone)]
pub(super) struct ReplayRequest {
    pub(super) topic: usize,
    pub(super) name: crate::Text,
    pub(super) after: u64,
}

impl Reader {
    /// A reader of `topics` after `cursor`, counted in each topic, or the
    /// name of a topic that has `max_per_topic` subscribers already (the
    /// topics counted before it are counted out again). A `fresh` one
    /// starts at the head, not at a client's cursor: no loss a store
    /// reported before is its to meet.
    pub(super) fn new(
        topics: Vec<Arc<Topic>>,
        cursor: u64,
        fresh: bool,
        max_per_topic: usize,
    ) -> Result<Self, crate::Text> {
        let handled = topics
            .iter()
            .map(|topic| {
                if fresh {
                    cursor.max(topic.lost_through())
                } else {
                    cursor
                }
            })
            .collect();
        let mut reader = Self {
            topics: SmallVec::new(),
            cursor,
            handled,
            restored: VecDeque::new(),
            armed: None,
            registered: None,
            wakeup: Arc::default(),
        };
        for topic in topics {
            if !topic.lock().admit_subscriber(max_per_topic) {
                // Dropping the reader counts it out of those admitted.
                return Err(topic.name.clone());
            }
            let slot = topic.wakers().insert(&reader.wakeup);
            reader.topics.push(Subscribed {
                topic,
                slot,
                tail: None,
            });
        }
        Ok(reader)
    }

    /// Takes the wake-up that led to this poll, first thing in every poll:
    /// the next change wakes it again (invariant 6 of `shared`).
    pub(super) fn take_wakeup(&self) {
        self.wakeup.take();
    }

    pub(super) fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Moves the cursor (past a gap, or where a check of it ended).
    pub(super) fn set_cursor(&mut self, cursor: u64) {
        self.cursor = cursor;
        // A cursor moved back (one ahead of the store starts again at its
        // head) starts afresh: what comes after it is not dealt with, and
        // no loss reported before is its to meet.
        for (handled, subscribed) in self.handled.iter_mut().zip(&self.topics) {
            *handled = cursor.max(subscribed.topic.lost_through());
        }
    }

    pub(super) fn topic_name(&self, topic: usize) -> &str {
        &self.topics[topic].topic.name
    }

    pub(super) fn topic_names(&self) -> Vec<&str> {
        self.topics.iter().map(|t| t.topic.name.as_str()).collect()
    }

    /// Reads the tails no more until the next locked read.
    pub(super) fn disarm(&mut self) {
        self.armed = None;
    }

    /// Takes `candidate` as read: the cursor moves to it.
    pub(super) fn take(&mut self, candidate: &Candidate) {
        self.cursor = candidate.entry.seq;
        if candidate.restored {
            self.restored.pop_front();
        }
    }

    /// Reads on from the topics' tails, without a lock, while the last
    /// locked read left this subscriber armed and nothing has closed or been
    /// lost since: the next event (its sequence number and bytes), or
    /// `Pending` when there is none (its waker is in every topic). `None`
    /// when only a locked read can tell: an event still being appended,
    /// evicted events, a tail it fell behind, a filter to run, replayed
    /// events to merge.
    pub(super) fn read_tails(
        &mut self,
        hub: &Shared,
        cx: &Context<'_>,
        filtered: bool,
    ) -> Option<Poll<TailRead>> {
        let armed = self.armed?;
        if armed.waker != WakerIdentity::of(cx.waker()) || filtered || !self.restored.is_empty() {
            return None;
        }
        let cursor = self.cursor;
        let max_age = hub.limits().max_age;
        // Loaded before any tail is looked at: every event up to it is in
        // all of its topics' tails by then, so none of them can appear in a
        // tail already passed while a later one is read from another.
        let head = hub.head();
        let mut best: Option<(usize, u64, Bytes)> = None;
        for (index, subscribed) in self.topics.iter_mut().enumerate() {
            // A loss this reader has not dealt with is met under the lock,
            // whether or not the tail has an event after it: the locked
            // read that armed this reader may have come before it reached
            // the loss.
            let lost = subscribed.topic.lost_through();
            if cursor < lost && self.handled[index] < lost {
                return None;
            }
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
        // they were appended shows here (invariant 3 of `shared`).
        if hub.rereads() != armed.rereads {
            return None;
        }
        let Some((index, seq, bytes)) = best else {
            return Some(Poll::Pending);
        };
        // One beyond the head may have a predecessor still being appended,
        // or appended to a tail looked at before it was (invariant 1).
        if seq > head {
            return None;
        }
        let single = self.topics.len() == 1;
        let tail = self.topics[index].tail.as_mut()?;
        tail.advance();
        self.cursor = seq;
        Some(Poll::Ready(TailRead {
            seq,
            bytes,
            last_ready: single && !tail.may_have_more(),
        }))
    }

    /// Reads every topic under its lock, registering the waker first where
    /// it changed (invariant 6 of `shared`), and arms the tails when caught up
    /// everywhere.
    pub(super) fn read(&mut self, hub: &Shared, cx: &Context<'_>, with_meta: bool) -> Read {
        // Loaded before any topic is locked: a close or a loss that this
        // read does not see has changed it, and the tails are not trusted.
        let rereads = hub.rereads();
        let head = hub.head();
        let waker = WakerIdentity::of(cx.waker());
        let register = self.registered != Some(waker);
        let limits = hub.limits();
        let now = limits.max_age.map(|_| Instant::now());
        let mut best: Option<Candidate> = None;
        let mut gap_through = 0;
        let mut gapped = Vec::new();
        let mut lost = false;
        // Where the first loss ahead of a gapped topic starts.
        let mut replay_cap = u64::MAX;
        let mut lost_topics = Vec::new();
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
            let handled = self.handled[index];
            let evicted = state.evicted_through();
            let behind_evicted = self.cursor < evicted && handled < evicted;
            // A loss not dealt with is met once every event of the topic
            // before it is read: none evicted, logged or restored is left.
            if let Some(loss) = state.loss_ahead(handled) {
                let evicted_before = behind_evicted && self.cursor.max(handled) < loss.after;
                let logged_before = state
                    .first_after(self.cursor)
                    .is_some_and(|entry| entry.seq <= loss.after);
                // A queued copy at or before the cursor is stale (the event
                // was read from another topic's log): it is not to come.
                let restored_before = self.restored.iter().any(|restored| {
                    restored.topic == index
                        && restored.entry.seq > self.cursor
                        && restored.entry.seq <= loss.after
                });
                if evicted_before {
                    // Replayed only up to the loss: across it, a store has
                    // none.
                    replay_cap = replay_cap.min(loss.after);
                } else if !logged_before && !restored_before {
                    lost_topics.push((index, loss.through, loss.after));
                    subscribed.tail = None;
                    caught_up_everywhere = false;
                    continue;
                }
            }
            if behind_evicted {
                gap_through = gap_through.max(evicted);
                gapped.push(index);
                lost |= self.cursor.max(self.handled[index]) < state.lost_through();
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
                None if state.is_closed() => {
                    closed = true;
                    false
                }
                None => true,
            };
            // A closed topic's end is only seen under the lock.
            let on_tail = drained && !state.is_closed();
            subscribed.tail = on_tail.then(|| state.tail_reader());
            caught_up_everywhere &= on_tail;
        }
        self.registered = Some(waker);
        self.armed = (caught_up_everywhere && !in_flight && !closed && gapped.is_empty())
            .then_some(Armed { rereads, waker });
        let gap_through = gap_through.min(replay_cap);
        // Replayed events merge with the logs, oldest first; an event that was
        // in several topics comes once (whichever copy is read first).
        while self
            .restored
            .front()
            .is_some_and(|restored| restored.entry.seq <= self.cursor)
        {
            self.restored.pop_front();
        }
        if let Some(restored) = self.restored.front() {
            if restored.entry.seq > head {
                // Restored past the head: an older event may still be on its
                // way into another topic's log (invariant 1).
                in_flight = true;
            } else if best
                .as_ref()
                .is_none_or(|best| restored.entry.seq < best.entry.seq)
            {
                best = Some(Candidate {
                    entry: restored.entry.clone(),
                    topic: restored.topic,
                    restored: true,
                });
            }
        }
        // A loss met is told once no event of any topic comes before it:
        // nothing can fill it, and moving past it never passes events still
        // to be replayed (see `skip_gap`).
        let due: Vec<(usize, u64)> = lost_topics
            .iter()
            .filter(|&&(_, _, after)| best.as_ref().is_none_or(|best| best.entry.seq > after))
            .map(|&(index, through, _)| (index, through))
            .collect();
        if !due.is_empty() {
            return Read::Lost { topics: due };
        }
        // A candidate is delivered only if no gapped topic can have a missing
        // event before it (past where that topic was dealt with): else the
        // gapped topics are replayed first, even with events of an earlier
        // round still queued (they merge). Events a replay brought back that
        // come before every gap are delivered before the next round is
        // asked for.
        let gap_bound = gapped
            .iter()
            .map(|&index| self.cursor.max(self.handled[index]))
            .min();
        let past_a_gap = |seq: u64| gap_bound.is_some_and(|bound| seq > bound);
        if gap_through > 0 && best.as_ref().is_none_or(|best| past_a_gap(best.entry.seq)) {
            Read::Gap {
                through: gap_through,
                topics: gapped,
                lost,
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

    /// Leaves every topic: its waker slot and its count go. Nothing is read
    /// after this.
    pub(super) fn leave(&mut self) {
        for subscribed in self.topics.drain(..) {
            subscribed.topic.wakers().remove(subscribed.slot);
            subscribed.topic.lock().count_subscriber(false);
        }
        self.armed = None;
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.leave();
    }
}
