//! [`Shared`]: what the store's commands and its feed's reader both use.
//!
//! Its own file so that the store (which starts the reader) and the reader
//! (which reads the store's keys and follows) do not import each other.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::Client;
use redis::aio::ConnectionManager;
use sse_engine::Text;
use sse_engine::hub::Epoch;
use tokio::sync::Notify;

use crate::keys::Keys;

/// The connection, keys and settings of one store, and the topics its feed
/// follows.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) commands: ConnectionManager,
    pub(crate) keys: Keys,
    pub(crate) epoch: Epoch,
    pub(crate) head: u64,
    pub(crate) max_len: usize,
    pub(crate) max_age: Option<Duration>,
    /// The byte budget of one replay round.
    pub(crate) replay_bytes: usize,
    /// How many times an unanswered append is sent.
    pub(crate) append_attempts: u32,
    /// How long a publish key is remembered.
    pub(crate) key_window: Duration,
    /// A random number of this store and a counter: each append's key.
    pub(crate) append_tokens: (u64, AtomicU64),
    pub(crate) block: Duration,
    pub(crate) backoff: (Duration, Duration),
    /// The topics to read, each from after the sequence number it was
    /// followed at, and how far the reader has reported: one lock, so that a
    /// topic is never followed from before a report that left it out.
    pub(crate) follows: Mutex<Follows>,
    /// Notified when a topic is followed, to end a blocking read early.
    pub(crate) follow_changed: Notify,
}

impl Shared {
    /// A key of its own for the next append, unique across processes.
    pub(crate) fn next_append_token(&self) -> String {
        let (base, counter) = &self.append_tokens;
        let n = counter.fetch_add(1, Ordering::Relaxed);
        format!("{base:016x}{n:x}")
    }

    pub(crate) fn follows(&self) -> MutexGuard<'_, Follows> {
        self.follows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The topics the reader follows, and how far it has reported.
#[derive(Debug)]
pub(crate) struct Follows {
    /// Each topic, with the sequence number it is read from after.
    pub(crate) topics: BTreeMap<Text, u64>,
    /// Every event up to here has been reported (or is in a report on its
    /// way to the hub).
    pub(crate) reported_through: u64,
}
