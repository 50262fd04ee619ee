//! The reader: one pull consumer per process over every subject of the
//! stream, reporting events to the hub in sequence order.
//!
//! One consumer for all topics, rather than one per topic or per client,
//! because the stream's sequence is one order: every event up to the last
//! one read has been read, whichever topics it is in, so the hub can let
//! multi-topic readers go that far. The consumer is ephemeral, acknowledges
//! nothing and lives in the server's memory; when it fails (the server went
//! away, the consumer was lost) the reader makes a new one from after the
//! last sequence number it read, with backoff, and deletes the one it left
//! (asking again for a while if that goes unanswered), so that a process
//! keeps one consumer on the stream, not one per failure until they expire.
//!
//! Making a consumer can go unanswered while the cluster recovers: while
//! the JetStream meta group elects a leader (a few seconds after its leader
//! was lost), nothing answers; and JetStream 2.9 places a one-replica
//! consumer on any node of the stream, one that is down included, which
//! never answers either. Both pass with another attempt, not with a longer
//! wait: every consumer has a name of its own, one whose making was not
//! answered is deleted (so that it is not left behind, made late or when
//! its node comes back), and attempts are paced by their start, so that
//! one that waited for its answer is not also made to wait its delay.
//!
//! The stream numbers its messages one by one, so a sequence number skipped
//! is a message the stream no longer holds (trimmed by its limits, purged,
//! deleted) that the reader never read: it is reported as lost in every
//! followed topic (the reader cannot know whose it was), never skipped in
//! silence. Unless the stream's leader still has it: a consumer served by
//! a replica that is catching up can pass over messages, and is replaced.
//! A message at or below the last one read is not reported again.

use std::error::Error;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_nats::connection::State;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::stream as js_stream;
use bytes::Bytes;
use futures_core::Stream;
use futures_util::{FutureExt, StreamExt};
use sse_engine::Text;
use sse_engine::hub::{FedEvent, FeedItem};
use tokio::sync::mpsc;

use crate::consumer;
use crate::gaps::{leader_has, passed_over};
use crate::open;
use crate::shared::Shared;
use crate::subject::{self, TOPICS};

/// The most messages one report to the hub holds.
const BATCH: usize = 512;

/// How often the reader looks whether the client lost its connection.
const CONNECTION_CHECK: Duration = Duration::from_millis(250);

/// A consumer that served this long before failing was healthy: the next
/// one is made after the shortest delay.
const HEALTHY: Duration = Duration::from_secs(10);

/// How often the server tells the reader that its consumer is there while
/// nothing is delivered: a consumer lost with its node (while the client is
/// connected to another) is noticed after two of them are missed.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// The hub's end of the feed.
pub(crate) struct Receiver(pub(crate) mpsc::Receiver<FeedItem>);

impl Stream for Receiver {
    type Item = FeedItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<FeedItem>> {
        self.0.poll_recv(cx)
    }
}

/// One message as the reader needs it.
struct Read {
    seq: u64,
    /// `None` when the message is not one of ours (no readable header).
    topics: Option<Vec<Text>>,
    event: Bytes,
}

type BoxError = Box<dyn Error + Send + Sync>;

/// Why reading stopped.
enum Stop {
    /// The hub dropped its end.
    HubGone,
    /// The stream is not the one the store opened any more.
    Replaced,
}

/// Runs until the hub drops its end of the feed.
pub(crate) async fn run(shared: Arc<Shared>, sender: mpsc::Sender<FeedItem>) {
    // Every sequence number up to here has been reported (or reported lost).
    let mut last = shared.head;
    let (min_backoff, max_backoff) = shared.backoff;
    let mut backoff = min_backoff;
    loop {
        let started = Instant::now();
        match read_until_broken(&shared, &sender, &mut last, &mut backoff).await {
            Ok(Stop::HubGone) => return,
            Ok(Stop::Replaced) => {
                tracing::error!(
                    stream = shared.stream,
                    "the stream was created again or rolled back: this store stops; restart the process"
                );
                shared.mark_replaced();
                return;
            }
            Err(error) => {
                // A consumer that served a while starts the delays afresh;
                // one that fails as soon as it is made is retried slower
                // and slower, never in a loop.
                if started.elapsed() >= HEALTHY {
                    backoff = min_backoff;
                }
                let wait = delay(backoff, started.elapsed());
                tracing::warn!(%error, stream = shared.stream, retry_in = ?wait, "JetStream reader lost its consumer");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = sender.closed() => return,
                }
                backoff = (backoff * 2).min(max_backoff);
            }
        }
    }
}

/// How long to wait before the next attempt, when the last one started
/// `elapsed` ago: what is left of `backoff`. Attempts start `backoff`
/// apart at least; one that waited for an answer that never came (a
/// consumer that was not made) has waited that long already.
fn delay(backoff: Duration, elapsed: Duration) -> Duration {
    backoff.saturating_sub(elapsed)
}

/// Makes a consumer and reads until it fails (an error) or the reader must
/// stop.
async fn read_until_broken(
    shared: &Shared,
    sender: &mpsc::Sender<FeedItem>,
    last: &mut u64,
    backoff: &mut Duration,
) -> Result<Stop, BoxError> {
    match open::current(&shared.jetstream, &shared.stream).await? {
        // The stream has everything the reader read, or more.
        Some(now) if now.epoch == shared.epoch && now.head >= *last => {}
        // Created again, or rolled back (restored from an older copy, a
        // single server that lost its last writes): its next sequence
        // numbers would repeat ids already given, for other events.
        Some(_) => return Ok(Stop::Replaced),
        None => return Err(format!("the stream {:?} does not exist", shared.stream).into()),
    }
    let stream = shared.jetstream.get_stream_no_info(&shared.stream).await?;
    // Whatever ends the reading (an error, the hub gone, the task aborted),
    // this consumer is not read again (the next is made from after
    // `last`): `Made` deletes it when dropped.
    let mut made = consumer::make(
        shared,
        &stream,
        consumer::Role::Reader,
        shared.subjects.all(),
        *last + 1,
    )
    .await?;
    read_consumer(shared, sender, last, backoff, &stream, made.consumer()).await
}

/// Reads `consumer` until it fails (an error) or the reader must stop.
async fn read_consumer(
    shared: &Shared,
    sender: &mpsc::Sender<FeedItem>,
    last: &mut u64,
    backoff: &mut Duration,
    stream: &js_stream::Stream<()>,
    consumer: &mut PullConsumer,
) -> Result<Stop, BoxError> {
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .max_bytes_per_batch(shared.fetch_bytes)
        .heartbeat(HEARTBEAT)
        .expires(Duration::from_secs(30))
        .messages()
        .await?;
    let mut read_once = false;
    let client = shared.jetstream.client();
    let mut was_disconnected = false;
    let mut watch = tokio::time::interval(CONNECTION_CHECK);
    loop {
        let first = tokio::select! {
            message = messages.next() => message,
            () = sender.closed() => return Ok(Stop::HubGone),
            _ = watch.tick() => {
                // After the client reconnected, a new consumer at once: the
                // old one may be gone with the server's memory, and the
                // client's stream would notice only after its heartbeats.
                match client.connection_state() {
                    State::Connected if was_disconnected => {
                        return Err("the client reconnected".into());
                    }
                    State::Connected => {}
                    _ => was_disconnected = true,
                }
                continue;
            }
        };
        let mut batch = vec![read(first.ok_or("the consumer ended")??)?];
        // What is already there joins the report; nothing is waited for.
        let mut failed = None;
        while batch.len() < BATCH {
            match messages.next().now_or_never() {
                Some(Some(Ok(message))) => batch.push(read(message)?),
                Some(Some(Err(error))) => {
                    failed = Some(BoxError::from(error));
                    break;
                }
                Some(None) => {
                    failed = Some("the consumer ended".into());
                    break;
                }
                None => break,
            }
        }
        let all = shared.subjects.all();
        for (from, until) in passed_over(*last, batch.iter().map(|read| read.seq), None) {
            // A message the leader still has in a run the consumer passed
            // over (see `gaps`) means this consumer is behind, and a new
            // one reads again from after `last`.
            if leader_has(stream, &all, from, until).await? {
                return Err(format!(
                    "the consumer passed over {from}..{until}, which the stream holds"
                )
                .into());
            }
        }
        // Only a consumer whose batch passed that check resets the backoff:
        // one on a replica that stays behind is retried slower and slower.
        if !read_once {
            read_once = true;
            *backoff = shared.backoff.0;
        }
        for item in process(shared, last, batch) {
            if sender.send(item).await.is_err() {
                return Ok(Stop::HubGone);
            }
        }
        if let Some(error) = failed {
            return Err(error);
        }
    }
}

fn read(message: async_nats::jetstream::Message) -> Result<Read, BoxError> {
    let seq = message.info()?.stream_sequence;
    let topics = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(TOPICS))
        .and_then(|value| subject::decode_all(value.as_str()));
    Ok(Read {
        seq,
        topics,
        event: message.message.payload,
    })
}

/// What a batch tells the hub: the events of followed topics, and before
/// the first event after a skipped sequence number, its loss.
fn process(shared: &Shared, last: &mut u64, batch: Vec<Read>) -> Vec<FeedItem> {
    let mut follows = shared.follows();
    let mut items = Vec::new();
    let mut events = Vec::new();
    for read in batch {
        if read.seq <= *last {
            continue;
        }
        if read.seq > *last + 1 {
            let through = read.seq - 1;
            tracing::warn!(
                stream = shared.stream,
                from = *last + 1,
                through,
                "the stream no longer holds events the reader had not read"
            );
            if !events.is_empty() {
                items.push(FeedItem::Events {
                    events: std::mem::take(&mut events),
                    through: *last,
                });
            }
            for (topic, start) in &follows.topics {
                if *start < through {
                    items.push(FeedItem::Lost {
                        topic: topic.clone(),
                        through,
                    });
                }
            }
        }
        *last = read.seq;
        shared.note_read(read.seq);
        let Some(topics) = read.topics else {
            tracing::warn!(
                stream = shared.stream,
                seq = read.seq,
                "a message without topics in the stream"
            );
            continue;
        };
        for topic in topics {
            if follows
                .topics
                .get(&topic)
                .is_some_and(|start| read.seq > *start)
            {
                events.push(FedEvent {
                    seq: read.seq,
                    topic,
                    event: read.event.clone(),
                });
            }
        }
    }
    if *last > follows.reported_through {
        follows.reported_through = *last;
        items.push(FeedItem::Events {
            events,
            through: *last,
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_start_a_backoff_apart() {
        let backoff = Duration::from_millis(400);
        // One that failed at once waits the whole delay.
        assert_eq!(delay(backoff, Duration::ZERO), backoff);
        assert_eq!(
            delay(backoff, Duration::from_millis(100)),
            Duration::from_millis(300)
        );
        // One that waited longer for an answer is followed at once.
        assert_eq!(delay(backoff, Duration::from_secs(2)), Duration::ZERO);
    }
}
