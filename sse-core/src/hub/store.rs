//! [`Store`]: where a hub's ids come from and where old events are replayed
//! from, so that several server processes can share one log.

use std::error::Error;
use std::fmt;
use std::future::{Future, ready};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::Epoch;
use crate::Text;

/// A future returned by a [`Store`].
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The storage behind a hub's topics.
///
/// The hub always keeps each topic's recent events in memory, in its bounded
/// log, and subscribers read that. The store decides the ids: every event
/// published gets its sequence number from [`Store::append`] (so processes
/// sharing a store share one sequence), and a client whose cursor is older
/// than the in-memory log is served from [`Store::replay`] when the store
/// still has those events.
///
/// [`MemoryStore`], the default, keeps nothing beyond the hub's log.
///
/// # Limits of this version
///
/// A hub reads nothing from its store when it is built: its sequence starts
/// at 0 and its logs start empty, and it receives no events appended by other
/// processes. A store kept across restarts, or shared by several processes,
/// therefore needs a new epoch for each hub (as [`MemoryStore`] has) until
/// the hub learns the store's head and a live feed from it.
pub trait Store: Send + Sync + 'static {
    /// The epoch of every id this store gives.
    fn epoch(&self) -> Epoch;

    /// Stores `event` (encoded, without its `id` line) in each of `topics`
    /// and returns its sequence number, which must be greater than every one
    /// returned before. The hub calls it one publish at a time. An error means
    /// nothing was stored; the hub publishes nothing and reports it.
    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64>;

    /// The events of `topic` with sequence numbers strictly between `after`
    /// and `before`, oldest first, each as `append` was given it. `None` when
    /// the store no longer holds all of them: the subscriber is then told of
    /// a gap.
    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
    ) -> StoreFuture<'a, Option<Vec<(u64, Bytes)>>>;
}

/// A store that only numbers events: the hub's in-memory logs are all there
/// is, and a cursor older than them is a gap.
#[derive(Debug)]
pub struct MemoryStore {
    epoch: Epoch,
    last: AtomicU64,
}

impl MemoryStore {
    /// A store with a random epoch.
    pub fn new() -> Self {
        Self::with_epoch(Epoch::random())
    }

    /// A store with the given epoch.
    pub fn with_epoch(epoch: Epoch) -> Self {
        Self {
            epoch,
            last: AtomicU64::new(0),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Store for MemoryStore {
    fn epoch(&self) -> Epoch {
        self.epoch
    }

    fn append<'a>(&'a self, _topics: &'a [Text], _event: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(ready(Ok(self.last.fetch_add(1, Ordering::AcqRel) + 1)))
    }

    fn replay<'a>(
        &'a self,
        _topic: &'a Text,
        _after: u64,
        _before: u64,
    ) -> StoreFuture<'a, Option<Vec<(u64, Bytes)>>> {
        Box::pin(ready(Ok(None)))
    }
}

/// A store's failure, with its cause.
#[derive(Debug)]
pub struct StoreError(Box<dyn Error + Send + Sync>);

impl StoreError {
    /// Wraps the cause.
    pub fn new(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self(cause.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event store failed: {}", self.0)
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.0)
    }
}
