//! A topic: its bounded log of encoded events and the subscribers waiting on it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;

use super::lock::lock;
use super::tail::{Tail, TailEntry, TailReader};
use super::wakers::Wakers;
use super::{LogLimits, Position};
use crate::Text;
use crate::decode::Decoder;

/// One published event, as every subscriber of the topic reads it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    /// The whole encoded event, id included, shared by every reader.
    pub(crate) bytes: Bytes,
    /// Its type and data, for subscriptions with a filter: read from `bytes`
    /// when a filter first asks, so that the log holds nothing else (keeping
    /// the publisher's data instead would keep alive whatever buffer it was
    /// cut from, a whole request read buffer for example). Shared, so that a
    /// reader's copy of an entry stays small.
    meta: OnceLock<Arc<EntryMeta>>,
    pub(crate) published_at: Instant,
}

/// What a filter sees of an event besides its id.
#[derive(Debug, Default)]
pub(crate) struct EntryMeta {
    pub(crate) event_type: Option<Text>,
    pub(crate) data: Option<Text>,
}

impl EntryMeta {
    /// The event type and data of an encoded event (one a store gave back).
    pub(crate) fn describe(body: &[u8]) -> Self {
        let mut decoder = Decoder::new();
        if decoder.push(body).is_err() {
            return Self::default();
        }
        match decoder.next_event() {
            Some(event) => Self {
                event_type: (event.event_type() != "message")
                    .then(|| Text::copy_from(event.event_type())),
                data: Some(Text::from(event.into_data())),
            },
            None => Self::default(),
        }
    }
}

impl Entry {
    /// The entry for the event `body` (encoded without an id) at `position`:
    /// its id line is written in front of the body, once, for every reader.
    pub(crate) fn new(position: Position, body: &[u8]) -> Self {
        let mut bytes = BytesMut::with_capacity(id_line_len(position) + body.len());
        bytes.extend_from_slice(b"id: ");
        position.to_event_id().write_to(&mut bytes);
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(body);
        Self {
            seq: position.seq(),
            bytes: bytes.freeze(),
            meta: OnceLock::new(),
            published_at: Instant::now(),
        }
    }
}

/// An entry as one reader takes it: the metadata only when a filter will
/// look at it.
#[derive(Debug, Clone)]
pub(crate) struct ReadEntry {
    pub(crate) seq: u64,
    pub(crate) bytes: Bytes,
    pub(crate) meta: Option<Arc<EntryMeta>>,
}

impl Entry {
    pub(crate) fn read(&self, with_meta: bool) -> ReadEntry {
        ReadEntry {
            seq: self.seq,
            bytes: self.bytes.clone(),
            meta: with_meta.then(|| {
                self.meta
                    .get_or_init(|| Arc::new(EntryMeta::describe(&self.bytes)))
                    .clone()
            }),
        }
    }
}

/// Length of `id: <position>\n`.
pub(crate) fn id_line_len(position: Position) -> usize {
    "id: ".len() + position.to_event_id().wire_len() + 1
}

#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) name: Text,
    state: Mutex<TopicState>,
    /// [`TopicState::evicted_through`], for readers of the tail, which take
    /// no lock.
    evicted: Arc<AtomicU64>,
    /// [`TopicState::lost_through`], for readers of the tail.
    lost: Arc<AtomicU64>,
    /// Registered until the subscriber leaves or replaces it: a publish
    /// wakes every one and takes none, so that a subscriber reading the
    /// tail never needs a lock to put its waker back. Apart from the log's
    /// lock, so that registering never waits for an append.
    wakers: Mutex<Wakers>,
}

#[derive(Debug, Default)]
pub(crate) struct TopicState {
    log: VecDeque<Entry>,
    bytes: usize,
    /// The newest events again, for subscribers that read without the lock.
    tail: Tail,
    /// The highest sequence number evicted from this topic (0: none yet). A
    /// cursor below it has missed events. Written only under the lock.
    evicted: Arc<AtomicU64>,
    /// The highest sequence number a shared store reported lost (0: none):
    /// a gap that reaches past it is the store's loss, not a slow reader's.
    lost: Arc<AtomicU64>,
    /// The ranges a shared store reported lost, oldest first (the last
    /// [`MAX_LOSSES`]): a reader meets each where the events are missing,
    /// after the events before it, whether it reads them from the log or
    /// from the store.
    losses: VecDeque<Loss>,
    subscribers: usize,
    closed: bool,
}

/// Events a shared store reported lost: those after `after` up to `through`
/// (`after` is the newest event the topic had been given then, so every
/// event up to it is in the log, or was evicted from it as any other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loss {
    pub(crate) after: u64,
    pub(crate) through: u64,
}

/// At most this many losses are kept apart; older ones become evictions
/// (a reader behind them is told of a gap before the events the log still
/// holds from before them, as if they had been evicted).
const MAX_LOSSES: usize = 16;

impl Topic {
    /// A topic whose log starts after sequence number `seq`: a cursor older
    /// than that is served from the store (for a store shared with other
    /// processes, whose topics hold events from before this one existed).
    pub(crate) fn starting_after(name: Text, seq: u64) -> Self {
        let evicted = Arc::new(AtomicU64::new(seq));
        let lost = Arc::new(AtomicU64::new(0));
        Self {
            name,
            state: Mutex::new(TopicState {
                evicted: evicted.clone(),
                lost: lost.clone(),
                ..TopicState::default()
            }),
            evicted,
            lost,
            wakers: Mutex::default(),
        }
    }

    /// The subscribers' wakers. Registering takes this lock before the
    /// log's, so that a publish, which wakes after appending, wakes every
    /// subscriber that could have missed its event.
    pub(crate) fn wakers(&self) -> MutexGuard<'_, Wakers> {
        lock(&self.wakers)
    }

    /// Wakes every subscriber not already woken (after an append, a loss or
    /// a close); returns how many. They are woken after the lock is
    /// released: a waker may run code that takes it (drop a subscription of
    /// this topic, say).
    pub(crate) fn wake_all(&self) -> usize {
        let wakers = self.wakers().to_wake();
        let count = wakers.len();
        wakers.into_iter().for_each(Waker::wake);
        count
    }

    /// [`TopicState::evicted_through`], read without the lock.
    pub(crate) fn evicted_through(&self) -> u64 {
        self.evicted.load(Ordering::Acquire)
    }

    /// [`TopicState::lost_through`], read without the lock.
    pub(crate) fn lost_through(&self) -> u64 {
        self.lost.load(Ordering::Acquire)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, TopicState> {
        // Nothing that can panic runs under this lock, but a poisoned lock
        // must not take every later subscriber down with it.
        lock(&self.state)
    }
}

impl TopicState {
    pub(crate) fn append(&mut self, entry: Entry, limits: &LogLimits) {
        self.bytes += entry.bytes.len();
        let now = entry.published_at;
        self.tail.push(TailEntry {
            seq: entry.seq,
            bytes: entry.bytes.clone(),
            published_at: now,
        });
        self.log.push_back(entry);
        self.evict(limits, now);
    }

    /// Closes the topic: readers read what the log holds, then end. Never
    /// undone.
    pub(crate) fn close(&mut self) {
        self.closed = true;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// A reader of the tail at its newest event; see [`Tail::reader`].
    pub(crate) fn tail_reader(&self) -> TailReader {
        self.tail.reader()
    }

    /// Counts a subscriber in, unless the topic has `max` already.
    pub(crate) fn admit_subscriber(&mut self, max: usize) -> bool {
        let admitted = self.subscribers < max;
        if admitted {
            self.subscribers += 1;
        }
        admitted
    }

    /// Counts a subscriber in (`true`) or out.
    pub(crate) fn count_subscriber(&mut self, joined: bool) {
        if joined {
            self.subscribers += 1;
        } else {
            self.subscribers -= 1;
        }
    }

    pub(crate) fn subscribers(&self) -> usize {
        self.subscribers
    }

    /// The highest sequence number evicted (0: none yet).
    pub(crate) fn evicted_through(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Raises the evicted mark (never lowers it: a loss reported past
    /// what the log evicts stays reported).
    fn raise_evicted_through(&mut self, seq: u64) {
        if seq > self.evicted_through() {
            self.evicted.store(seq, Ordering::Release);
        }
    }

    /// Drops events past the count, byte and age bounds, oldest first.
    pub(crate) fn evict(&mut self, limits: &LogLimits, now: Instant) {
        let mut evicted = None;
        while let Some(oldest) = self.log.front() {
            let too_many = self.log.len() > limits.max_events;
            let too_big = self.bytes > limits.max_bytes;
            let too_old = limits
                .max_age
                .is_some_and(|age| now.saturating_duration_since(oldest.published_at) > age);
            if !(too_many || too_big || too_old) {
                break;
            }
            self.bytes -= oldest.bytes.len();
            evicted = Some(oldest.seq);
            self.log.pop_front();
        }
        if let Some(seq) = evicted {
            self.raise_evicted_through(seq);
            self.tail.release_through(seq);
        }
    }

    /// The oldest event strictly after `cursor`.
    pub(crate) fn first_after(&self, cursor: u64) -> Option<&Entry> {
        // A live subscriber is caught up: nothing is newer, or only the
        // newest event is. Both are answered without a search.
        let newest = self.log.back()?;
        if newest.seq <= cursor {
            return None;
        }
        let len = self.log.len();
        if len == 1 || self.log[len - 2].seq <= cursor {
            return Some(newest);
        }
        let index = self.log.partition_point(|entry| entry.seq <= cursor);
        self.log.get(index)
    }

    /// Records that the store lost the events up to `seq` it had not given
    /// this topic yet: a subscriber reads every event the log holds before
    /// them, then is told of a gap (`lost`, not `lagged`) where they are
    /// missing.
    pub(crate) fn mark_lost(&mut self, seq: u64) {
        if seq > self.lost_through() {
            self.lost.store(seq, Ordering::Release);
        }
        let after = self
            .newest_seq()
            .unwrap_or(0)
            .max(self.evicted_through())
            .max(self.losses.back().map_or(0, |loss| loss.through));
        if seq <= after {
            // Nothing it had not given: what the log still holds is read,
            // and a replay of what it evicted finds the store's loss.
            return;
        }
        if self.losses.len() == MAX_LOSSES {
            if let Some(oldest) = self.losses.pop_front() {
                self.raise_evicted_through(oldest.through);
            }
        }
        self.losses.push_back(Loss {
            after,
            through: seq,
        });
    }

    /// The highest sequence number a store reported lost (0: none).
    pub(crate) fn lost_through(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// The first loss after what a reader has dealt with up to `handled`:
    /// a replay of evicted events stops before it.
    pub(crate) fn loss_ahead(&self, handled: u64) -> Option<Loss> {
        self.losses
            .iter()
            .find(|loss| handled < loss.through)
            .copied()
    }

    /// The sequence number of the newest event held.
    pub(crate) fn newest_seq(&self) -> Option<u64> {
        self.log.back().map(|entry| entry.seq)
    }

    pub(crate) fn len(&self) -> usize {
        self.log.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Epoch;

    #[test]
    fn first_after_matches_a_plain_search() {
        let limits = LogLimits::new();
        let mut state = TopicState::default();
        // Sequence numbers with holes, as a topic of a multi-topic hub has.
        let seqs = [2, 3, 7, 8, 20, 21, 22, 40];
        for seq in seqs {
            let entry = Entry::new(Position::new(Epoch::from_bits(1), seq), b"data: x\n\n");
            state.append(entry, &limits);
        }
        for cursor in 0..45 {
            let expected = seqs.iter().copied().find(|&seq| seq > cursor);
            assert_eq!(
                state.first_after(cursor).map(|e| e.seq),
                expected,
                "after {cursor}"
            );
        }
        assert!(TopicState::default().first_after(0).is_none());
    }
}
