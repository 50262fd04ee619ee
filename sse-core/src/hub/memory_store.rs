//! [`MemoryStore`]: the default [`Store`], which only numbers events and
//! remembers recent publish keys.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::ready;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::lock::lock;
use super::{Appended, Epoch, PublishKey, Store, StoreFuture, StoredEvent};
use crate::Text;

/// How long a [`MemoryStore`] remembers a publish key unless set
/// ([`MemoryStore::key_window`]): two minutes, as a NATS JetStream
/// stream's duplicate window.
///
/// ```
/// use std::time::Duration;
///
/// use sse_engine::hub::{DEFAULT_KEY_WINDOW, DEFAULT_KEY_WINDOW_KEYS};
///
/// assert_eq!(DEFAULT_KEY_WINDOW, Duration::from_secs(120));
/// assert_eq!(DEFAULT_KEY_WINDOW_KEYS, 10_000);
/// ```
pub const DEFAULT_KEY_WINDOW: Duration = Duration::from_secs(120);

/// How many publish keys a [`MemoryStore`] remembers at most unless set
/// ([`MemoryStore::key_window`]).
pub const DEFAULT_KEY_WINDOW_KEYS: usize = 10_000;

/// A store that only numbers events: the hub's in-memory logs are all there
/// is, and a cursor older than them is a gap.
///
/// # Publish keys
///
/// A publish under a [`PublishKey`] ([`Hub::publish_keyed`](super::Hub::publish_keyed))
/// is remembered for a window, in time and in count: for
/// [`DEFAULT_KEY_WINDOW`] (two minutes) after it was stored, and among the
/// newest [`DEFAULT_KEY_WINDOW_KEYS`] (10,000) keys, whichever ends first;
/// set both with [`MemoryStore::key_window`]. The oldest keys are forgotten
/// first. A key costs its bytes and about a hundred more, so the default
/// window holds at most a few megabytes. The same key within the window
/// returns the first event's sequence number, and nothing is stored or
/// delivered again; after it, the key publishes anew. Keys are kept by this
/// process only, like everything in this store.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
///
/// use sse_engine::Event;
/// use sse_engine::hub::{Hub, MemoryStore, PublishKey};
///
/// let store = MemoryStore::new().key_window(Duration::from_secs(600), 1_000);
/// let hub = Hub::builder().store(store).build();
/// let key = PublishKey::try_from("order-17-paid").unwrap();
/// let first = hub.publish_keyed("orders", &key, Event::new().data("paid")).await.unwrap();
/// let again = hub.publish_keyed("orders", &key, Event::new().data("paid")).await.unwrap();
/// assert_eq!(again.position(), first.position());
/// assert!(again.is_duplicate());
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    epoch: Epoch,
    last: AtomicU64,
    keys: Mutex<KeyWindow>,
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
            keys: Mutex::new(KeyWindow::new(DEFAULT_KEY_WINDOW, DEFAULT_KEY_WINDOW_KEYS)),
        }
    }

    /// Remembers each publish key for `age` after it was stored, and at
    /// most the newest `keys` of them (see the [type docs](MemoryStore)).
    /// A window of no time or no keys remembers none: every keyed publish
    /// is then new. With `usize::MAX` keys, only the age bounds it.
    pub fn key_window(self, age: Duration, keys: usize) -> Self {
        Self {
            keys: Mutex::new(KeyWindow::new(age, keys)),
            ..self
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
        Box::pin(ready(Ok(self.next_seq())))
    }

    fn append_keyed<'a>(
        &'a self,
        _topics: &'a [Text],
        _event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        let mut keys = lock(&self.keys);
        let now = Instant::now();
        keys.forget_older(now);
        let appended = match keys.get(key) {
            Some(seq) => Appended::duplicate_of(seq),
            None => {
                let seq = self.next_seq();
                keys.insert(key.clone(), seq, now);
                Appended::new(seq)
            }
        };
        Box::pin(ready(Ok(appended)))
    }

    fn forget_key(&self, key: &PublishKey, seq: u64) {
        lock(&self.keys).remove(key, seq);
    }

    fn replay<'a>(
        &'a self,
        _topic: &'a Text,
        _after: u64,
        _before: u64,
        _limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(ready(Ok(None)))
    }
}

impl MemoryStore {
    fn next_seq(&self) -> u64 {
        self.last.fetch_add(1, Ordering::AcqRel) + 1
    }
}

/// The publish keys a [`MemoryStore`] remembers, oldest first.
struct KeyWindow {
    max_age: Duration,
    max_keys: usize,
    /// Each key remembered, with its sequence number.
    seqs: HashMap<PublishKey, u64>,
    /// The keys in the order they were stored, with when and as which
    /// sequence number: an entry whose number is no longer the key's in
    /// `seqs` (the key was forgotten) is skipped.
    order: VecDeque<(Instant, PublishKey, u64)>,
}

impl fmt::Debug for KeyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The window's bounds and size, not its (up to thousands of) keys.
        f.debug_struct("KeyWindow")
            .field("max_age", &self.max_age)
            .field("max_keys", &self.max_keys)
            .field("keys", &self.seqs.len())
            .finish()
    }
}

impl KeyWindow {
    fn new(max_age: Duration, max_keys: usize) -> Self {
        Self {
            max_age,
            max_keys,
            seqs: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn get(&self, key: &PublishKey) -> Option<u64> {
        self.seqs.get(key).copied()
    }

    /// Forgets the keys stored `max_age` or longer before `now`.
    fn forget_older(&mut self, now: Instant) {
        while let Some((stored, _, _)) = self.order.front() {
            if now.duration_since(*stored) < self.max_age {
                break;
            }
            self.pop_oldest();
        }
    }

    fn insert(&mut self, key: PublishKey, seq: u64, now: Instant) {
        if self.max_keys == 0 || self.max_age.is_zero() {
            return;
        }
        while self.seqs.len() >= self.max_keys {
            self.pop_oldest();
        }
        self.seqs.insert(key.clone(), seq);
        self.order.push_back((now, key, seq));
    }

    fn remove(&mut self, key: &PublishKey, seq: u64) {
        if self.seqs.get(key) == Some(&seq) {
            self.seqs.remove(key);
        }
        // Its entry in `order` goes when it is the oldest; until then, the
        // count bound counts `seqs`, and `order` holds at most as many
        // stale entries as keys were forgotten this way.
        if self.order.len() > self.max_keys.saturating_mul(2) {
            self.order
                .retain(|(_, key, seq)| self.seqs.get(key) == Some(seq));
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((_, key, seq)) = self.order.pop_front() {
            if self.seqs.get(&key) == Some(&seq) {
                self.seqs.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> PublishKey {
        PublishKey::new(text).unwrap()
    }

    #[test]
    fn the_oldest_keys_go_first_by_count() {
        let mut window = KeyWindow::new(Duration::from_secs(60), 2);
        let now = Instant::now();
        window.insert(key("a"), 1, now);
        window.insert(key("b"), 2, now);
        window.insert(key("c"), 3, now);
        assert_eq!(window.get(&key("a")), None);
        assert_eq!(window.get(&key("b")), Some(2));
        assert_eq!(window.get(&key("c")), Some(3));
    }

    #[test]
    fn keys_go_after_their_age() {
        let mut window = KeyWindow::new(Duration::from_secs(60), 10);
        let start = Instant::now();
        window.insert(key("a"), 1, start);
        window.insert(key("b"), 2, start + Duration::from_secs(30));
        window.forget_older(start + Duration::from_secs(60));
        assert_eq!(window.get(&key("a")), None);
        assert_eq!(window.get(&key("b")), Some(2));
        window.forget_older(start + Duration::from_secs(90));
        assert_eq!(window.get(&key("b")), None);
        assert!(window.order.is_empty());
    }

    #[test]
    fn a_forgotten_key_is_new_again_and_its_old_entry_is_skipped() {
        let mut window = KeyWindow::new(Duration::from_secs(60), 2);
        let now = Instant::now();
        window.insert(key("a"), 1, now);
        window.remove(&key("a"), 1);
        assert_eq!(window.get(&key("a")), None);
        window.insert(key("a"), 2, now);
        window.insert(key("b"), 3, now);
        // The stale entry of "a" (1) goes first and leaves "a" (2) alone.
        window.pop_oldest();
        assert_eq!(window.get(&key("a")), Some(2));
    }
}
