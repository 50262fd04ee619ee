//! [`RedisStoreBuilder`]: how a [`RedisStore`] is configured and connected.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use redis::Client;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sse_engine::hub::Epoch;
use tokio::sync::Notify;

use crate::keys::Keys;
use crate::shared::{Follows, Shared};
use crate::store::RedisStore;

/// How long Redis remembers a publish key unless set
/// ([`RedisStoreBuilder::publish_key_window`]).
///
/// ```
/// assert_eq!(sse_redis::DEFAULT_PUBLISH_KEY_WINDOW.as_secs(), 120);
/// ```
pub const DEFAULT_PUBLISH_KEY_WINDOW: Duration = Duration::from_secs(120);

/// The longest publish key window: an expiry Redis takes (it refuses one
/// past `i64::MAX` milliseconds from now), and longer than anyone retries.
const MAX_PUBLISH_KEY_WINDOW: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Configures and connects a [`RedisStore`]. Its `Debug` form shows the URL
/// without its password.
#[derive(Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    max_len: usize,
    max_age: Option<Duration>,
    replay_bytes: usize,
    append_attempts: u32,
    key_window: Duration,
    block: Duration,
    backoff: (Duration, Duration),
    epoch: Option<Epoch>,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &self.address())
            .field("prefix", &self.prefix)
            .field("max_len", &self.max_len)
            .field("max_age", &self.max_age)
            .field("replay_bytes", &self.replay_bytes)
            .field("append_attempts", &self.append_attempts)
            .field("key_window", &self.key_window)
            .field("block", &self.block)
            .field("backoff", &self.backoff)
            .field("epoch", &self.epoch)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// The Redis URL with its password hidden, for logs and messages.
    ///
    /// ```
    /// let builder = sse_redis::RedisStore::builder("redis://app:secret@redis:6379/0");
    /// assert_eq!(builder.address(), "redis://app:***@redis:6379/0");
    /// ```
    pub fn address(&self) -> String {
        crate::address::without_password(&self.url)
    }

    /// The prefix of every key (`sse:` unless set). Processes share a log
    /// when they use the same Redis and the same prefix; the prefix also
    /// gives the epoch of the ids.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// About how many events each topic's stream keeps (10,000 unless set);
    /// Redis trims in whole nodes, so a few more may stay.
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len.max(1);
        self
    }

    /// Also trims events older than `age` (by the time Redis gave their
    /// sequence number), approximately.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// About how many bytes of events one replay round reads (1 MiB unless
    /// set): a round ends before the event that would pass it, and always
    /// holds at least one event, however large. See "Work per reconnect" in
    /// the [`RedisStore`] docs.
    pub fn replay_bytes(mut self, bytes: usize) -> Self {
        self.replay_bytes = bytes.max(1);
        self
    }

    /// How many times one append is sent when Redis does not answer within
    /// the command timeout (500 ms), 3 unless set. Each is sent with the
    /// same append key, so the event is stored once however many run. When
    /// none is answered, the error says that the event may have been
    /// published (it may still run when Redis comes back).
    pub fn append_attempts(mut self, attempts: u32) -> Self {
        self.append_attempts = attempts.max(1);
        self
    }

    /// How long Redis remembers a publish key
    /// ([`Hub::publish_keyed`](sse_engine::hub::Hub::publish_keyed)): a
    /// publish under the same key within this window, from any process on
    /// the same Redis and prefix, is stored once and answered with the
    /// first one's sequence number. 2 minutes unless set; at least 1 s, and
    /// at most 100 years (a longer window, such as `Duration::MAX` for
    /// "forever", is taken as 100 years: Redis refuses a longer expiry).
    /// Each key costs Redis about 100 bytes plus the key's length while it
    /// lives (`<prefix>publish-key:<key>`, with an expiry): 1,000 keyed
    /// publishes a second hold about 25 MB with the default window.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = sse_redis::RedisStore::builder("redis://127.0.0.1:6379/")
    ///     .publish_key_window(Duration::from_secs(600));
    /// # drop(builder);
    /// ```
    pub fn publish_key_window(mut self, window: Duration) -> Self {
        self.key_window = window.clamp(Duration::from_secs(1), MAX_PUBLISH_KEY_WINDOW);
        self
    }

    /// How long the reader's `XREAD` blocks before it asks again (5 s unless
    /// set). Events arrive as soon as they are added, whatever this is.
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block.clamp(Duration::from_millis(10), Duration::from_secs(60));
        self
    }

    /// The reader's reconnection delays: from `min`, doubling to `max`
    /// (100 ms to 5 s unless set).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        self.backoff = (min, max.max(min));
        self
    }

    /// Uses this epoch instead of the one the prefix gives.
    pub fn epoch(mut self, epoch: Epoch) -> Self {
        self.epoch = Some(epoch);
        self
    }

    /// Connects, and reads how far the shared sequence has gone.
    ///
    /// # Errors
    ///
    /// When the URL is invalid or Redis cannot be reached.
    pub async fn connect(self) -> Result<RedisStore, redis::RedisError> {
        let client = Client::open(self.url.as_str())?;
        // Fail fast when Redis is not there; a connection lost later is
        // made again on the next command.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let mut commands = ConnectionManager::new_with_config(client.clone(), config).await?;
        let keys = Keys::new(&self.prefix);
        let head: Option<u64> = redis::cmd("GET")
            .arg(keys.seq())
            .query_async(&mut commands)
            .await?;
        let epoch = self.epoch.unwrap_or_else(|| keys.epoch());
        tracing::debug!(prefix = self.prefix, head, "connected to Redis");
        Ok(RedisStore::new(Shared {
            client,
            commands,
            keys,
            epoch,
            head: head.unwrap_or(0),
            max_len: self.max_len,
            max_age: self.max_age,
            replay_bytes: self.replay_bytes,
            append_attempts: self.append_attempts,
            key_window: self.key_window,
            append_tokens: (Epoch::random().bits(), AtomicU64::new(0)),
            block: self.block,
            backoff: self.backoff,
            follows: Mutex::new(Follows {
                topics: BTreeMap::new(),
                reported_through: head.unwrap_or(0),
            }),
            follow_changed: Notify::new(),
        }))
    }
}

impl RedisStore {
    /// A builder for a store on the Redis at `url` (`redis://host:port/db`,
    /// `rediss://` for TLS with the `tls` feature, user and password in the
    /// URL as the `redis` crate reads them).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "sse:".to_owned(),
            max_len: 10_000,
            max_age: None,
            replay_bytes: 1 << 20,
            append_attempts: 3,
            key_window: DEFAULT_PUBLISH_KEY_WINDOW,
            block: Duration::from_secs(5),
            backoff: (Duration::from_millis(100), Duration::from_secs(5)),
            epoch: None,
        }
    }
}
