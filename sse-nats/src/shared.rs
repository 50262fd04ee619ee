//! [`Shared`]: what the store's commands and its feed's reader both use.
//!
//! Its own file so that the store (which starts the reader) and the reader
//! (which reads the stream and the follows) do not import each other.
//!
//! One lock, `follows`, guards the topics the reader reports and how far it
//! has reported: `Store::follow` and the reader's report of a batch take it,
//! never together with another lock, so a topic is never followed from
//! before a report that left it out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_nats::jetstream::Context;
use sse_engine::Text;
use sse_engine::hub::Epoch;

use crate::subject::Subjects;

/// The connection, stream and settings of one store, and the topics its
/// feed follows.
pub(crate) struct Shared {
    pub(crate) jetstream: Context,
    pub(crate) stream: String,
    pub(crate) subjects: Subjects,
    pub(crate) epoch: Epoch,
    /// The stream's last sequence number when the store connected.
    pub(crate) head: u64,
    /// How many times one append is sent (with the same message id) before
    /// it reports an error.
    pub(crate) publish_attempts: u32,
    /// The most bytes one fetch of a replay or of the feed may bring.
    pub(crate) fetch_bytes: usize,
    /// The byte budget of one replay round.
    pub(crate) replay_bytes: usize,
    /// The reader's reconnection delays: from the first, doubling to the
    /// second.
    pub(crate) backoff: (Duration, Duration),
    /// Set when the reader found that the stream was deleted and created
    /// again under the store, or rolled back to an older state: its
    /// sequence numbers would repeat ids already given, for other events,
    /// so this store appends nothing more.
    pub(crate) replaced: AtomicBool,
    /// The highest sequence number the reader has read: a publish numbered
    /// at or below what it was when the publish was sent shows that the
    /// stream was rolled back.
    pub(crate) read: AtomicU64,
    pub(crate) follows: Mutex<Follows>,
    /// When a replay last said at `warn` that it reads from the stream's
    /// leader, message by message (`replay::scan_by_leader`).
    pub(crate) leader_scan_warned: Mutex<Option<Instant>>,
}

/// How often at most a replay says at `warn` that it reads from the
/// stream's leader.
const LEADER_SCAN_WARNING_EVERY: Duration = Duration::from_secs(60);

impl Shared {
    pub(crate) fn follows(&self) -> MutexGuard<'_, Follows> {
        self.follows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a replay that reads from the stream's leader should say so
    /// at `warn` now: once a minute at most, however many clients replay.
    pub(crate) fn warn_of_leader_scan(&self) -> bool {
        let mut warned = self
            .leader_scan_warned
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if warned.is_some_and(|at| now.duration_since(at) < LEADER_SCAN_WARNING_EVERY) {
            return false;
        }
        *warned = Some(now);
        true
    }

    pub(crate) fn is_replaced(&self) -> bool {
        self.replaced.load(Ordering::Acquire)
    }

    pub(crate) fn note_read(&self, seq: u64) {
        self.read.fetch_max(seq, Ordering::AcqRel);
    }

    pub(crate) fn has_read(&self) -> u64 {
        self.read.load(Ordering::Acquire)
    }

    pub(crate) fn mark_replaced(&self) {
        self.replaced.store(true, Ordering::Release);
    }
}

/// The topics the reader reports, and how far it has reported.
#[derive(Debug)]
pub(crate) struct Follows {
    /// Each topic, with the sequence number it is reported from after.
    pub(crate) topics: HashMap<Text, u64>,
    /// Every event up to here has been reported (or is in a report on its
    /// way to the hub).
    pub(crate) reported_through: u64,
}
