//! [`RedisStore`]: the hub's [`Store`] on Redis Streams.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use redis::Value;
use sse_engine::Text;
use sse_engine::hub::{
    Appended, Epoch, Feed, PublishKey, ReplayRound, Store, StoreError, StoreFuture, StoredEvent,
};
use tokio::task::JoinHandle;

use crate::reply;
use crate::scripts::{APPEND, REPLAY};
use crate::shared::Shared;

/// A [`Store`] on Redis Streams: every server process that uses the same
/// Redis and key prefix shares one sequence of ids and one replay log, so a
/// client can resume on any of them.
///
/// - Publishing runs one Lua script: the event gets the next sequence number
///   and is added (`XADD`, with an approximate `MAXLEN` and an optional
///   `MINID` age bound) to the stream of each of its topics. The stream
///   entry id is the event id, with the epoch in decimal:
///   `<epoch>-<seq>` in Redis is `<epoch as 12 hex digits>-<seq>` on the wire.
/// - Each process runs one reader that `XREAD BLOCK`s on the streams of the
///   topics it has, and feeds the hub's in-memory logs, which subscribers
///   read: one Redis connection per process for live events (and one for
///   commands), none per client.
/// - A cursor older than the in-memory log is replayed by a script that
///   reads the topic's stream (`XRANGE`) in rounds bounded by count (the
///   hub's log limit) and by bytes ([`replay_bytes`](crate::RedisStoreBuilder::replay_bytes)).
///   Every entry records its predecessor in the stream, and the script
///   checks that chain from the cursor on: when Redis trimmed past the
///   cursor, an entry is missing anywhere between the cursor and the head,
///   Redis went back to an older snapshot, or the cursor is from before
///   Redis was emptied, the client gets the hub's gap signal.
/// - When Redis goes away, publishing fails (nothing is acknowledged that was
///   not stored); the reader reconnects with backoff and goes on from the
///   last entry it read, and whatever was trimmed or lost meanwhile becomes a
///   gap signal.
/// - When Redis does not answer a publish in time (the command timeout,
///   500 ms: Redis paused, overloaded, or a network that holds packets),
///   the script is sent again, up to
///   [`append_attempts`](crate::RedisStoreBuilder::append_attempts), under the same
///   append key: Redis remembers each append's sequence number for 60 s
///   (`<prefix>append:<token>`, about 100 bytes per publish while it lives),
///   so the event is stored once however many of them run. When none is
///   answered, the error says that the event **may have been published**
///   ([`StoreError::is_outcome_unknown`]): the scripts still waiting in
///   Redis run when it comes back (once, for the same reason). A caller
///   that publishes again after such an error with `Hub::publish` may store
///   the event twice; with `Hub::publish_keyed` and the same key, it is
///   stored once.
/// - A publish key the caller gives (`Hub::publish_keyed`) is the append
///   key, in a key space of its own (`<prefix>publish-key:<key>`): Redis
///   remembers it for the [publish key window](crate::RedisStoreBuilder::publish_key_window)
///   (2 minutes unless set), for every process on the same Redis and
///   prefix, and a publish under it within that window returns the first
///   one's sequence number, storing nothing. (Like every key, it is lost
///   when Redis loses its data: after a failover or a restart from an
///   older snapshot, a retried publish may be stored again.)
///
/// # Work per reconnect
///
/// A client whose cursor is older than the hub's in-memory log costs one
/// replay: rounds of one script each, one round at a time per client.
///
/// - A round returns at most [`replay_bytes`](crate::RedisStoreBuilder::replay_bytes)
///   of events (1 MiB unless set), or one event when a single one is
///   larger, and at most the hub's `LogLimits::max_events`. Inside Redis,
///   the script reads the stream in chunks sized from the events it has
///   seen, so it holds the round, at most one event read past it, and the
///   stream's first and last entries (read for its checks).
/// - Rounds: about the bytes to replay divided by the budget (1,500 events
///   of 60 KB, 90 MB, take 89 rounds of at most 17 events, about 1 s on one machine); Redis sends each event
///   once, so a reconnect makes Redis send what the client missed, no more.
/// - Memory in the server process: one round per resuming client, besides
///   the hub's logs; in Redis, about one round per replay running at once.
/// - Time: each round is one command, far within the command timeout
///   (500 ms), so a long replay is many short commands, never one that
///   times out; a round that fails is tried again by the hub (four times,
///   over about two seconds) before the client is told of a gap.
///
/// # When Redis fails over, restarts or rolls back
///
/// Redis replication is asynchronous: a publish is acknowledged once the
/// primary ran the script, before any replica has it. When a replica is
/// promoted (Sentinel, a managed failover), or Redis restarts from a
/// snapshot older than its last writes (the default RDB persistence, or
/// `appendfsync everysec` losing its last second), **events that were
/// acknowledged can be lost**. What the hub then does:
///
/// - A client that had received them keeps them (they were delivered), and
///   its stream goes on with the events published after.
/// - A client that had not, and resumes from a cursor before them, is told
///   of a gap (`lost` or `evicted`), never left without them in silence:
///   Redis's sequence counter below what the hub has read, or a reader that
///   saw the chain of the `all` stream go back, mark the range as lost for
///   every process (`<prefix>holes`).
/// - Limits of that detection: a rollback is seen by a process that read
///   past it, or by a replay up to what its hub has read. When every
///   process restarts together with Redis, a cursor from the lost range is
///   not recognised as lost.
/// - Redis emptied (restarted without persistence, `FLUSHALL`) is always
///   seen: every cursor from before is a gap.
///
/// Ids are never given twice for different events: a sequence number is at
/// least Redis's clock in microseconds, so numbers given after a rollback
/// are above those that were lost (as long as the server's clock does not
/// go back).
///
/// # Choosing sse-redis or sse-nats
///
/// - sse-redis: one Redis you already run, the lowest publish latency, and
///   gaps acceptable when Redis fails over or rolls back (clients are told
///   of them). Use `appendonly yes` with `appendfsync always` on a single
///   server to keep every acknowledged event across restarts.
/// - `sse-nats`: events that must survive losing a server. With a JetStream
///   stream of three replicas, a publish is acknowledged only after a quorum
///   stored it, so losing any one node loses no acknowledged event, and a
///   retried publish is stored once.
///
/// # Limits
///
/// - A topic, once a process has it, is read until the process ends (closing
///   it in the hub does not stop the reading).
/// - After the reader was away, its first read brings everything since, up
///   to each stream's `MAXLEN`: memory for that read is bounded by
///   `max_len` times the number of topics.
/// - Redis must keep these keys: run it with `noeviction` or a `volatile-*`
///   policy (the keys have no expiry). When a topic's stream is evicted
///   (`allkeys-*`), its events are lost without a gap signal: a missing
///   stream reads as a topic that has had no events.
/// - One Redis server (a primary, replicated or not). Redis Cluster is not
///   supported: each script touches the keys of several topics, which a
///   cluster spreads over slots.
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// use sse_engine::hub::Hub;
/// use sse_redis::RedisStore;
///
/// let store = RedisStore::builder("redis://127.0.0.1:6379/")
///     .prefix("chat:")
///     .max_len(10_000)
///     .connect()
///     .await?;
/// let hub = Hub::builder().store(store).build();
/// # drop(hub);
/// # Ok(())
/// # }
/// ```
pub struct RedisStore {
    shared: Arc<Shared>,
    feed_task: Mutex<Option<JoinHandle<()>>>,
}

/// How long Redis remembers an append's sequence number, so that the same
/// append sent again is not stored twice: far longer than every attempt.
const APPEND_KEY_LIFETIME: Duration = Duration::from_secs(60);

/// An append Redis did not answer: it may have been stored.
#[derive(Debug)]
struct Unanswered(redis::RedisError);

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no answer from Redis; the event may have been published ({})",
            self.0
        )
    }
}

impl std::error::Error for Unanswered {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl RedisStore {
    /// The store over `shared`, its feed not started yet.
    pub(crate) fn new(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
            feed_task: Mutex::new(None),
        }
    }
}

impl RedisStore {
    /// Runs the append script, and again (with the same append key, so that
    /// it is stored once) when Redis did not answer in time, up to the
    /// configured attempts. An error after an attempt without an answer
    /// says that the event may have been published. Under the caller's
    /// `key` when there is one (then remembered for the key window), else
    /// under a token of this call.
    async fn append_once(
        &self,
        topics: &[Text],
        event: &Bytes,
        key: Option<&PublishKey>,
    ) -> Result<Appended, StoreError> {
        let shared = &*self.shared;
        let keys = &shared.keys;
        let token = shared.next_append_token();
        let (append_key, lifetime) = match key {
            Some(key) => (keys.publish_key(key.as_str()), shared.key_window),
            None => (keys.append(&token), APPEND_KEY_LIFETIME),
        };
        let mut invocation = APPEND.prepare_invoke();
        invocation
            .key(keys.seq())
            .key(keys.since())
            .key(keys.all())
            .key(append_key);
        for topic in topics {
            invocation.key(keys.topic(topic));
        }
        let max_age = shared.max_age.map_or(0, |age| age.as_micros());
        invocation
            .arg(shared.epoch.bits())
            .arg(shared.max_len)
            .arg(event.as_ref())
            .arg(max_age.to_string())
            .arg(lifetime.as_millis().to_string())
            .arg(&token);
        let mut unanswered = false;
        let mut attempt = 1;
        loop {
            let outcome: redis::RedisResult<(String, i64)> =
                invocation.invoke_async(&mut shared.commands.clone()).await;
            let error = match outcome {
                Ok((seq, duplicate)) => {
                    let seq = seq.parse().map_err(|_| {
                        StoreError::new(format!("Redis gave sequence number {seq:?}"))
                    })?;
                    return Ok(if duplicate == 0 {
                        Appended::new(seq)
                    } else {
                        Appended::duplicate_of(seq)
                    });
                }
                Err(error) => error,
            };
            // Sent, maybe run, but not answered: the script may still run
            // (it waits in Redis's socket while Redis is paused, say).
            let timed_out = error.is_timeout();
            unanswered |= timed_out || (error.is_io_error() && !error.is_connection_refusal());
            if timed_out && attempt < shared.append_attempts {
                attempt += 1;
                tracing::debug!(%error, attempt, "no answer from Redis to an append; sending it again");
                continue;
            }
            return Err(if unanswered {
                StoreError::outcome_unknown(Unanswered(error))
            } else {
                StoreError::new(error)
            });
        }
    }

    /// One run of the replay script: at most `limit` events and `budget`
    /// bytes of them (0: no byte bound), and how far the round is complete.
    async fn round(
        &self,
        topic: &Text,
        after: u64,
        before: u64,
        limit: usize,
        budget: usize,
    ) -> Result<Option<ReplayRound>, StoreError> {
        let shared = &*self.shared;
        let keys = &shared.keys;
        let value: Value = REPLAY
            .key(keys.since())
            .key(keys.topic(topic))
            .key(keys.seq())
            .key(keys.holes())
            .arg(shared.epoch.bits())
            .arg(after)
            .arg(before)
            .arg(limit.max(1))
            .arg(budget)
            .invoke_async(&mut shared.commands.clone())
            .await
            .map_err(StoreError::new)?;
        let Some((complete_through, entries)) = reply::round(value).map_err(StoreError::new)?
        else {
            return Ok(None);
        };
        let events = entries
            .into_iter()
            .filter_map(|entry| {
                Some(StoredEvent {
                    seq: entry.seq,
                    event: entry.event?,
                })
            })
            .collect();
        Ok(Some(ReplayRound::new(events, complete_through)))
    }
}

impl Store for RedisStore {
    fn epoch(&self) -> Epoch {
        self.shared.epoch
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let appended = self.append_once(topics, event, None).await?;
            Ok(appended.seq)
        })
    }

    /// Stores the event once per `key` within the
    /// [publish key window](crate::RedisStoreBuilder::publish_key_window),
    /// for every process on the same Redis and prefix; see the
    /// [type docs](RedisStore).
    fn append_keyed<'a>(
        &'a self,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        Box::pin(self.append_once(topics, event, Some(key)))
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        // No byte bound: `replay`'s callers take fewer than `limit` events
        // as the whole range.
        Box::pin(async move {
            let round = self.round(topic, after, before, limit, 0).await?;
            Ok(round.map(|round| round.events))
        })
    }

    fn replay_round<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<ReplayRound>> {
        Box::pin(self.round(topic, after, before, limit, self.shared.replay_bytes))
    }

    fn head(&self) -> u64 {
        self.shared.head
    }

    fn head_now(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let head: Option<u64> = redis::cmd("GET")
                .arg(self.shared.keys.seq())
                .query_async(&mut self.shared.commands.clone())
                .await
                .map_err(StoreError::new)?;
            Ok(head.unwrap_or(0))
        })
    }

    fn feed(&self) -> Option<Feed> {
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        let task = tokio::spawn(crate::feed::run(self.shared.clone(), sender));
        let previous = self
            .feed_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(task);
        if let Some(previous) = previous {
            previous.abort();
        }
        Some(Box::pin(crate::feed::Receiver(receiver)))
    }

    fn follow(&self, topic: &Text, after: u64) -> u64 {
        let start = {
            let mut follows = self.shared.follows();
            // Reports already sent past `after` left this topic out: it
            // starts where they end, and the hub replays what is older.
            let start = after.max(follows.reported_through);
            // A topic followed again (closed in the hub, then created anew)
            // starts here too, not where it first started: what the reader
            // reported of it in between went to no topic. (Before the reader
            // picks a topic up, it reads it from here.)
            let followed = follows.topics.entry(topic.clone()).or_insert(start);
            *followed = (*followed).max(start);
            start
        };
        self.shared.follow_changed.notify_one();
        start
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        // The reader holds a connection; it ends with the store.
        if let Some(task) = self
            .feed_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("epoch", &self.shared.epoch)
            .field("keys", &self.shared.keys)
            .field("max_len", &self.shared.max_len)
            .field("max_age", &self.shared.max_age)
            .field("key_window", &self.shared.key_window)
            .finish_non_exhaustive()
    }
}
