//! The reader: one `XREAD BLOCK` loop per process over the streams of every
//! topic the hub has, reporting events to the hub in sequence order.
//!
//! One loop for all topics, rather than one per topic, because one `XREAD`
//! over several streams is one consistent cut: every event up to the
//! highest sequence number in the reply is in it, whichever of its topics
//! it was added to, so the hub can let multi-topic readers go that far.

use std::collections::HashMap;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Value};
use sse_engine::Text;
use sse_engine::hub::{FedEvent, FeedItem};
use tokio::sync::mpsc;

use crate::reply::{self, StreamEntry, StreamRead};
use crate::shared::Shared;

/// The hub's end of the feed.
pub(crate) struct Receiver(pub(crate) mpsc::Receiver<FeedItem>);

impl Stream for Receiver {
    type Item = FeedItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<FeedItem>> {
        self.0.poll_recv(cx)
    }
}

/// What the reader has read so far.
struct Progress {
    /// Every event up to here has been reported.
    through: u64,
    /// Per topic, the last sequence number read from its stream.
    read: HashMap<Text, u64>,
    /// The start of the store's lifetime, once known: when it changes, Redis
    /// was emptied, and what the reader had not read is lost.
    lifetime: Option<u64>,
    /// The last entry read from the `all` stream: the next one must name it
    /// as its predecessor, or Redis went back to an older copy of its data.
    all_read: u64,
    /// Ranges `(kept, lost]` that a rollback lost, to record in Redis for
    /// the replays of every process.
    holes: Vec<(u64, u64)>,
}

/// Runs until the hub drops its end of the feed.
pub(crate) async fn run(shared: Arc<Shared>, sender: mpsc::Sender<FeedItem>) {
    let mut progress = Progress {
        through: shared.head,
        read: HashMap::new(),
        lifetime: None,
        all_read: shared.head,
        holes: Vec::new(),
    };
    let (min_backoff, max_backoff) = shared.backoff;
    let mut backoff = min_backoff;
    loop {
        match read_until_broken(&shared, &sender, &mut progress, &mut backoff).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, keys = ?shared.keys, retry_in = ?backoff, "Redis reader lost its connection");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(max_backoff);
            }
        }
        if sender.is_closed() {
            return;
        }
    }
}

/// Connects and reads until the connection fails (an error) or the hub is
/// gone (`Ok`).
async fn read_until_broken(
    shared: &Shared,
    sender: &mpsc::Sender<FeedItem>,
    progress: &mut Progress,
    backoff: &mut Duration,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // No response timeout shorter than the blocking read, but one: a
    // connection that silently died is noticed.
    let config = AsyncConnectionConfig::new()
        .set_response_timeout(Some(shared.block + Duration::from_secs(5)));
    let mut connection = shared
        .client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let client_id: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut connection)
        .await?;
    if progress.lifetime.is_none() {
        progress.lifetime = redis::cmd("GET")
            .arg(shared.keys.since())
            .query_async(&mut connection)
            .await?;
    }
    let mut read_once = false;
    record_holes(shared, &mut connection, progress).await?;
    loop {
        for (topic, after) in &shared.follows().topics {
            progress.read.entry(topic.clone()).or_insert(*after);
        }
        let topics: Vec<Text> = progress.read.keys().cloned().collect();
        let value = blocking_read(shared, &mut connection, client_id, progress, &topics).await?;
        let streams = reply::streams(value)?;
        // Only a connection that reads resets the backoff: one that connects
        // and then fails (a key of another type, say) is retried slower and
        // slower, not every 100 ms.
        if !read_once {
            read_once = true;
            *backoff = shared.backoff.0;
        }
        let items = process(shared, progress, streams);
        // Recorded before the hub hears of the events, so that another
        // process's replay sees the hole as soon as possible; but the
        // events go to the hub whatever the answer: `process` has moved the
        // read positions past them, and a failed record is tried again
        // when the reader reconnects (the holes stay in `progress`).
        let recorded = record_holes(shared, &mut connection, progress).await;
        for item in items {
            if sender.send(item).await.is_err() {
                return Ok(());
            }
        }
        recorded?;
    }
}

/// One `XREAD BLOCK`, ended early when a topic is followed meanwhile.
async fn blocking_read(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    client_id: i64,
    progress: &Progress,
    topics: &[Text],
) -> redis::RedisResult<Value> {
    let epoch = shared.epoch.bits();
    let mut command = redis::cmd("XREAD");
    command
        .arg("BLOCK")
        .arg(shared.block.as_millis().to_string())
        .arg("STREAMS")
        .arg(shared.keys.all());
    for topic in topics {
        command.arg(shared.keys.topic(topic));
    }
    command.arg(format!("{epoch}-{}", progress.through));
    for topic in topics {
        command.arg(format!("{epoch}-{}", progress.read[topic]));
    }
    let mut read = pin!(command.query_async::<Value>(connection));
    let mut unblocking = false;
    loop {
        tokio::select! {
            reply = &mut read => return reply,
            () = shared.follow_changed.notified(), if !unblocking => unblocking = true,
            unblocked = unblock(shared.commands.clone(), client_id), if unblocking => {
                // Not blocked yet (the read may still be on its way): try
                // again in a moment, until the read returns.
                if unblocked {
                    unblocking = false;
                } else {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        }
    }
}

/// Ends the reader's blocking read, as if it had timed out. Whether it was
/// blocked.
async fn unblock(mut commands: ConnectionManager, client_id: i64) -> bool {
    let unblocked: redis::RedisResult<i64> = redis::cmd("CLIENT")
        .arg("UNBLOCK")
        .arg(client_id)
        .query_async(&mut commands)
        .await;
    matches!(unblocked, Ok(1))
}

/// What a reply tells the hub: losses first, then the events up to how far
/// the reply is complete.
fn process(shared: &Shared, progress: &mut Progress, streams: Vec<StreamRead>) -> Vec<FeedItem> {
    let all_key = shared.keys.all();
    let mut newest = progress.through;
    for (_, entries) in &streams {
        if let Some(last) = entries.last() {
            newest = newest.max(last.seq);
        }
    }
    // A topic followed after this read was sent was not in it: the reply is
    // complete only up to where that topic starts (never before what was
    // already reported: a topic is followed from there at the earliest).
    // Taken under the lock that `follow` takes, with the new horizon, so
    // that a topic followed from now on starts after this report. The read's
    // topics are the keys of `progress.read`: one lookup each, not a scan of
    // the read's topics for every followed one.
    let through = {
        let mut follows = shared.follows();
        let cap = follows
            .topics
            .iter()
            .filter(|(topic, _)| !progress.read.contains_key(*topic))
            .map(|(_, after)| *after)
            .min();
        let through = cap
            .map_or(newest, |cap| newest.min(cap))
            .max(progress.through);
        follows.reported_through = through;
        through
    };

    let mut items = Vec::new();
    let mut events = Vec::new();
    for (key, entries) in streams {
        let entries = entries.into_iter().take_while(|entry| entry.seq <= through);
        if key == all_key.as_bytes() {
            for entry in entries {
                let same_lifetime = progress.lifetime.is_none_or(|l| l == entry.lifetime);
                if same_lifetime && entry.prev < progress.all_read {
                    // Entries up to what was read are gone while newer ones
                    // were added: Redis restarted from an older snapshot.
                    // The topics' chains were written again after it, so
                    // replays learn of it only from this record.
                    tracing::warn!(
                        kept = entry.prev,
                        lost = progress.all_read,
                        "Redis went back to an older copy of its data; replays over what it lost are gaps"
                    );
                    progress.holes.push((entry.prev, progress.all_read));
                }
                progress.all_read = entry.seq;
                note_lifetime(progress, &entry, &mut items);
            }
            continue;
        }
        let Some(topic) = shared.keys.topic_of(&key) else {
            continue;
        };
        for entry in entries {
            note_lifetime(progress, &entry, &mut items);
            let read = progress.read.entry(topic.clone()).or_insert(0);
            if entry.prev > *read {
                tracing::warn!(%topic, through = entry.prev, "Redis trimmed events the reader had not read");
                items.push(FeedItem::Lost {
                    topic: topic.clone(),
                    through: entry.prev,
                });
            }
            *read = entry.seq;
            if let Some(event) = entry.event {
                events.push(FedEvent {
                    seq: entry.seq,
                    topic: topic.clone(),
                    event,
                });
            }
        }
    }
    events.sort_by_key(|event| event.seq);
    if through > progress.through || !events.is_empty() {
        progress.through = through;
        items.push(FeedItem::Events { events, through });
    }
    items
}

/// Records in Redis the ranges a rollback lost (`ZADD`, by the last lost), so
/// that a replay over them, in any process, is a gap; kept to try again when
/// Redis fails.
async fn record_holes(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    progress: &mut Progress,
) -> redis::RedisResult<()> {
    while let Some(&(kept, lost)) = progress.holes.first() {
        let () = redis::cmd("ZADD")
            .arg(shared.keys.holes())
            .arg(lost)
            .arg(format!("{kept}:{lost}"))
            .query_async(connection)
            .await?;
        progress.holes.remove(0);
    }
    Ok(())
}

/// Reports every followed topic as lost up to a new lifetime's start when
/// `entry` shows that Redis was emptied.
fn note_lifetime(progress: &mut Progress, entry: &StreamEntry, items: &mut Vec<FeedItem>) {
    match progress.lifetime {
        Some(lifetime) if lifetime == entry.lifetime => {}
        Some(_) => {
            tracing::warn!(
                since = entry.lifetime,
                "Redis was emptied; events the reader had not read are lost"
            );
            for topic in progress.read.keys() {
                items.push(FeedItem::Lost {
                    topic: topic.clone(),
                    through: entry.lifetime.saturating_sub(1),
                });
            }
            progress.lifetime = Some(entry.lifetime);
        }
        None => progress.lifetime = Some(entry.lifetime),
    }
}
