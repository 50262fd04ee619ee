//! Where a chat's servers record the event names they announce, beside the
//! log, with when: it decides which names need an announcement, for every
//! server alike, and tells pages of a server that started late the names
//! whose first announcements the store has trimmed. See
//! [`names`](crate::names) for how the record, the announcements and a
//! page's list of names fit together.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

use crate::ChatError;
use crate::names::{MAX_EVENT_NAMES, REANNOUNCE_AFTER, REMEMBERED};

/// What the registry says of a name a message is about to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Announced in the last [`REANNOUNCE_AFTER`]: use it as it is.
    InUse,
    /// Announce it first (and record it once announced).
    Announce,
    /// It needs an announcement, and [`MAX_EVENT_NAMES`] names are in use.
    Full,
}

/// The names announced in the last [`REMEMBERED`], each with when it was
/// last announced, shared by the servers of a chat. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) enum NameRegistry {
    /// In this process, for the chats that share one hub.
    Local(Arc<Mutex<HashMap<String, Instant>>>),
    /// In Redis, for the servers that share its log.
    #[cfg(feature = "redis")]
    Redis(redis_names::RedisNames),
    /// In NATS JetStream key-value buckets, for the servers that share its
    /// stream.
    #[cfg(feature = "nats")]
    Nats(Box<crate::nats_names::NatsNames>),
}

impl NameRegistry {
    /// A registry in this process.
    pub(crate) fn local() -> Self {
        Self::Local(Arc::default())
    }

    /// Whether a message may use `name` as it is; see [`Claim`]. Forgets the
    /// names unused for [`REMEMBERED`].
    ///
    /// # Errors
    ///
    /// `503` when the registry cannot be reached.
    pub(crate) async fn claim(&self, name: &str) -> Result<Claim, ChatError> {
        match self {
            Self::Local(names) => {
                let now = Instant::now();
                let mut names = names.lock().unwrap_or_else(PoisonError::into_inner);
                names.retain(|_, recorded| now.duration_since(*recorded) <= REMEMBERED);
                let fresh = |recorded: &Instant| now.duration_since(*recorded) <= REANNOUNCE_AFTER;
                if names.get(name).is_some_and(fresh) {
                    Ok(Claim::InUse)
                } else if names.values().filter(|recorded| fresh(recorded)).count()
                    >= MAX_EVENT_NAMES
                {
                    Ok(Claim::Full)
                } else {
                    Ok(Claim::Announce)
                }
            }
            #[cfg(feature = "redis")]
            Self::Redis(names) => names.claim(name).await,
            #[cfg(feature = "nats")]
            Self::Nats(names) => names.claim(name).await,
        }
    }

    /// Records that `name` was announced now, and forgets the names unused
    /// for [`REMEMBERED`].
    ///
    /// # Errors
    ///
    /// `503` when the registry cannot be reached.
    pub(crate) async fn record(&self, name: &str) -> Result<(), ChatError> {
        match self {
            Self::Local(names) => {
                let now = Instant::now();
                let mut names = names.lock().unwrap_or_else(PoisonError::into_inner);
                names.retain(|_, recorded| now.duration_since(*recorded) <= REMEMBERED);
                names.insert(name.to_owned(), now);
                Ok(())
            }
            #[cfg(feature = "redis")]
            Self::Redis(names) => names.record(name).await,
            #[cfg(feature = "nats")]
            Self::Nats(names) => names.record(name).await,
        }
    }

    /// The names recorded in the last [`REMEMBERED`].
    ///
    /// # Errors
    ///
    /// `503` when the registry cannot be reached.
    pub(crate) async fn recent(&self) -> Result<Vec<String>, ChatError> {
        match self {
            Self::Local(names) => {
                let now = Instant::now();
                let names = names.lock().unwrap_or_else(PoisonError::into_inner);
                Ok(names
                    .iter()
                    .filter(|(_, recorded)| now.duration_since(**recorded) <= REMEMBERED)
                    .map(|(name, _)| name.clone())
                    .collect())
            }
            #[cfg(feature = "redis")]
            Self::Redis(names) => names.recent().await,
            #[cfg(feature = "nats")]
            Self::Nats(names) => names.recent().await,
        }
    }
}

/// The registry in a Redis sorted set: member the name, score the Redis
/// server's clock (its `TIME`, so that the servers' own clocks never meet)
/// when the name was last recorded.
#[cfg(feature = "redis")]
pub(crate) mod redis_names {
    use std::time::Duration;

    use redis::Script;
    use redis::aio::ConnectionManager;

    use super::Claim;
    use crate::ChatError;
    use crate::names::{MAX_EVENT_NAMES, REANNOUNCE_AFTER, REMEMBERED};

    /// How long a `503` asks a client to wait.
    const RETRY_AFTER: Duration = Duration::from_secs(1);

    /// Whether `ARGV[1]` may be used as it is: 0 when recorded in the last
    /// `ARGV[3]` seconds, -1 when it is not and `ARGV[4]` names are, 1
    /// otherwise (announce it). Forgets what is older than `ARGV[2]`
    /// seconds.
    const CLAIM: &str = r"
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
local fresh_since = now - tonumber(ARGV[3])
local recorded = redis.call('ZSCORE', KEYS[1], ARGV[1])
if recorded and tonumber(recorded) >= fresh_since then
  return 0
end
if redis.call('ZCOUNT', KEYS[1], fresh_since, '+inf') >= tonumber(ARGV[4]) then
  return -1
end
return 1
";

    /// Records `ARGV[1]` now and forgets what is older than `ARGV[2]` seconds.
    const RECORD: &str = r"
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1
";

    /// The names recorded in the last `ARGV[1]` seconds.
    const RECENT: &str = r"
local now = tonumber(redis.call('TIME')[1])
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
";

    /// A chat's names in Redis, under `<prefix>event-names`.
    #[derive(Clone)]
    pub(crate) struct RedisNames {
        connection: ConnectionManager,
        key: String,
    }

    impl std::fmt::Debug for RedisNames {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RedisNames")
                .field("key", &self.key)
                .finish_non_exhaustive()
        }
    }

    impl RedisNames {
        /// The registry of the chat whose keys start with `prefix`, on the
        /// Redis at `url`.
        pub(crate) async fn connect(url: &str, prefix: &str) -> redis::RedisResult<Self> {
            let client = redis::Client::open(url)?;
            let connection = ConnectionManager::new(client).await?;
            Ok(Self {
                connection,
                key: format!("{prefix}event-names"),
            })
        }

        pub(crate) async fn claim(&self, name: &str) -> Result<Claim, ChatError> {
            let mut connection = self.connection.clone();
            let answer: i64 = Script::new(CLAIM)
                .key(&self.key)
                .arg(name)
                .arg(REMEMBERED.as_secs())
                .arg(REANNOUNCE_AFTER.as_secs())
                .arg(MAX_EVENT_NAMES)
                .invoke_async(&mut connection)
                .await
                .map_err(|error| unavailable(&error))?;
            Ok(match answer {
                0 => Claim::InUse,
                -1 => Claim::Full,
                _ => Claim::Announce,
            })
        }

        pub(crate) async fn record(&self, name: &str) -> Result<(), ChatError> {
            let mut connection = self.connection.clone();
            Script::new(RECORD)
                .key(&self.key)
                .arg(name)
                .arg(REMEMBERED.as_secs())
                .invoke_async::<i64>(&mut connection)
                .await
                .map(drop)
                .map_err(|error| unavailable(&error))
        }

        pub(crate) async fn recent(&self) -> Result<Vec<String>, ChatError> {
            let mut connection = self.connection.clone();
            Script::new(RECENT)
                .key(&self.key)
                .arg(REMEMBERED.as_secs())
                .invoke_async(&mut connection)
                .await
                .map_err(|error| unavailable(&error))
        }
    }

    /// A Redis failure as the chat answers it: its text stays in the log.
    fn unavailable(error: &redis::RedisError) -> ChatError {
        tracing::warn!(%error, "the event names in Redis cannot be reached");
        ChatError::unavailable(RETRY_AFTER)
    }
}
