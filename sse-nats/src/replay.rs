//! Replay: the events of one topic between two sequence numbers, read from
//! the stream by a short-lived consumer, in rounds and fetches bounded by
//! count and bytes.
//!
//! An event of the topic is on one of two subjects: the topic's own (when
//! it is the event's only topic) or the subject of multi-topic events
//! (`Sse-Topics` names them). A round scans both, each from the cursor, and
//! merges them; each scan is cut where the other stopped being complete, so
//! the round is complete up to its last event. Each scan, and then the
//! merged round, ends before the event that would pass the round's byte
//! bound (never before its first event), and says how far it is complete:
//! the hub asks again from there.
//!
//! A scan that cannot make its consumer asks the stream's leader for each
//! next message of its subject instead (`scan_by_leader`).
//!
//! Then it checks that the stream still holds the whole range: its first
//! sequence number is at most the cursor's successor (nothing was trimmed
//! or purged past the cursor) and none of the range's sequence numbers was
//! deleted from the middle (a purge of one subject, a deleted message).
//! Checked after the scan, so that nothing removed while scanning goes
//! unseen. A hole anywhere in the range, in any topic, is a gap: the store
//! cannot tell whose event it was.

use async_nats::HeaderMap;
use async_nats::jetstream::stream::{RawMessageErrorKind, Stream};
use bytes::Bytes;
use futures_util::StreamExt;
use sse_engine::Text;
use sse_engine::hub::{ReplayRound, StoreError, StoredEvent};

use crate::consumer::{self, Role};
use crate::gaps::{leader_has, passed_over};
use crate::shared::Shared;
use crate::subject::{self, TOPICS};

/// How many messages one fetch asks for at most (the byte bound usually
/// ends it first for large events).
const FETCH_MESSAGES: usize = 256;

/// Requests to the stream's leader in flight at once, checking what a
/// replay's consumer passed over.
const LEADER_CHECKS_AT_ONCE: usize = 16;

/// The events of `topic` in `(after, before)`, at most `limit`; `None` when
/// the stream no longer holds all of them.
pub(crate) async fn replay(
    shared: &Shared,
    topic: &Text,
    after: u64,
    before: u64,
    limit: usize,
) -> Result<Option<Vec<StoredEvent>>, StoreError> {
    // No byte bound: `replay`'s callers take fewer than `limit` events as
    // the whole range.
    let round = round(shared, topic, after, before, limit, usize::MAX).await?;
    Ok(round.map(|round| round.events))
}

/// One round of the events of `topic` in `(after, before)`: at most `limit`
/// events and `budget` bytes of them (at least one event when the range has
/// one), and how far the round is complete; `None` when the stream no
/// longer holds all of them.
pub(crate) async fn round(
    shared: &Shared,
    topic: &Text,
    after: u64,
    before: u64,
    limit: usize,
    budget: usize,
) -> Result<Option<ReplayRound>, StoreError> {
    if after.saturating_add(1) >= before || limit == 0 {
        return Ok(Some(ReplayRound::new(
            Vec::new(),
            before.saturating_sub(1).max(after),
        )));
    }
    let own = shared.subjects.topic(topic);
    let (mut events, own_full) = scan(shared, &own, after, before, limit, budget, |_| true).await?;
    // The own subject's scan is complete up to here.
    let own_end = match (own_full, events.last()) {
        (true, Some(last)) => last.seq.saturating_add(1),
        _ => before,
    };
    let token = subject::encode(topic);
    let in_topic = |topics: &str| topics.split(' ').any(|name| name == token);
    let (multi, multi_full) = scan(
        shared,
        &shared.subjects.multi(),
        after,
        own_end,
        limit,
        budget,
        in_topic,
    )
    .await?;
    let end = match (multi_full, multi.last()) {
        (true, Some(last)) => last.seq.saturating_add(1),
        _ => own_end,
    };
    events.extend(multi);
    events.retain(|event| event.seq < end);
    events.sort_by_key(|event| event.seq);
    // Each scan kept to the bounds; together they may pass them: the round
    // ends before the event that would (never before the first).
    let kept = within(&events, limit, budget);
    let complete_through = if kept < events.len() {
        events.truncate(kept);
        events.last().map_or(after, |last| last.seq)
    } else {
        end.saturating_sub(1)
    };
    if holds_all(shared, after, complete_through.saturating_add(1)).await? {
        Ok(Some(ReplayRound::new(events, complete_through)))
    } else {
        tracing::debug!(%topic, after, before, "the stream no longer holds the range");
        Ok(None)
    }
}

/// How many of `events`, from the first, fit in `limit` events and `budget`
/// bytes (at least one).
fn within(events: &[StoredEvent], limit: usize, budget: usize) -> usize {
    let mut bytes = 0usize;
    for (n, event) in events.iter().enumerate() {
        bytes = bytes.saturating_add(event.event.len());
        if n >= limit || (n > 0 && bytes > budget) {
            return n;
        }
    }
    events.len()
}

/// Up to `want` events and `budget` bytes of them (at least one) on `filter`
/// in `(after, before)` whose `Sse-Topics` header `keep` accepts, and whether
/// the scan ended at a bound (then it is complete only up to its last
/// event).
async fn scan(
    shared: &Shared,
    filter: &str,
    after: u64,
    before: u64,
    want: usize,
    budget: usize,
    keep: impl Fn(&str) -> bool,
) -> Result<(Vec<StoredEvent>, bool), StoreError> {
    if after.saturating_add(1) >= before {
        return Ok((Vec::new(), false));
    }
    let stream = shared
        .jetstream
        .get_stream_no_info(&shared.stream)
        .await
        .map_err(StoreError::new)?;
    let mut gathered = Gathered::new(want, budget);
    // Deleted when dropped: once the scan is done, or when the replay is
    // given up halfway (its client went away).
    let mut made = match consumer::make(shared, &stream, Role::Replay, filter.to_owned(), after + 1)
        .await
    {
        Ok(made) => made,
        Err(error) => {
            if shared.warn_of_leader_scan() {
                tracing::warn!(
                    %error,
                    stream = shared.stream,
                    "a replay could not make its consumer: it reads from the stream's leader, a request per message on its subject (said once a minute)"
                );
            } else {
                tracing::debug!(%error, filter, "no consumer for a replay: reading from the stream's leader");
            }
            return scan_by_leader(&stream, filter, after, before, gathered, keep).await;
        }
    };
    let consumer = made.consumer();
    // Every sequence number the consumer gave below `before`, kept or not:
    // what lies between two of them (on `filter`) it passed over. A scan
    // that ends before `before` ends because the consumer reached it, or
    // said there was nothing more.
    let mut delivered = Vec::new();
    let outcome = async {
        loop {
            let mut batch = consumer
                .fetch()
                .max_messages(FETCH_MESSAGES.min(want - gathered.events.len()))
                .max_bytes(shared.fetch_bytes)
                .messages()
                .await
                .map_err(StoreError::new)?;
            let mut fetched = 0;
            while let Some(message) = batch.next().await {
                let message = match message {
                    Ok(message) => message,
                    // The server ends a fetch whose next message would pass
                    // its byte bound with a 409 ("Message Size Exceeds
                    // MaxBytes") after the messages that fit: the end of
                    // this fetch, not a failure. (A real failure comes back
                    // on the next fetch, before any message.)
                    Err(error) if fetched > 0 && error.to_string().contains("409") => break,
                    Err(error) => return Err(StoreError::new(error)),
                };
                fetched += 1;
                let info = message.info().map_err(StoreError::new)?;
                let (seq, pending) = (info.stream_sequence, info.pending);
                if seq <= after {
                    // Made on a replica that is behind (a node restarted and
                    // catching up): JetStream starts it after the last
                    // message that replica has, before the range. Taken as
                    // the range's, its events are not the range's, and the
                    // hub, finding none of the range, passes over all of it.
                    return Err(StoreError::new(format!(
                        "the replay's consumer on {filter} started at {seq}, before {}: its node is behind the stream",
                        after + 1
                    )));
                }
                if seq >= before {
                    return Ok(false);
                }
                delivered.push(seq);
                let topics = topics_of(message.headers.as_ref());
                if gathered.offer(seq, topics, &message.message.payload, &keep) {
                    return Ok(true);
                }
                if pending == 0 {
                    return Ok(false);
                }
            }
            if fetched == 0 {
                return Ok(false);
            }
        }
    }
    .await;
    drop(made);
    let full = outcome?;
    // A consumer on a replica still catching up (after a node was lost or
    // restarted) says "nothing more" early, and can pass over messages in
    // the middle (the one a lost leader was committing, say): only the
    // stream's leader can say the scan is complete. A message it has that
    // the consumer passed over means the round is not to be trusted; the
    // hub asks again.
    let end = match (full, gathered.events.last()) {
        // Complete only up to its last event.
        (true, Some(last)) => last.seq.saturating_add(1),
        _ => before,
    };
    // One request per run, a few at once: where topics interleave in the
    // stream there is a run between most of a topic's events.
    let stream = &stream;
    let mut checks = futures_util::stream::iter(passed_over(after, delivered, Some(end)))
        .map(|(from, until)| async move {
            leader_has(stream, filter, from, until)
                .await
                .map(|has| has.then_some((from, until)))
                .map_err(StoreError::new)
        })
        .buffer_unordered(LEADER_CHECKS_AT_ONCE);
    while let Some(check) = checks.next().await {
        if let Some((from, until)) = check? {
            return Err(StoreError::new(format!(
                "the replay's consumer on {filter} passed over messages in {from}..{until} that the stream's leader has"
            )));
        }
    }
    Ok((gathered.events, full))
}

/// [`scan`] without a consumer, for when one cannot be made: asks the
/// stream's leader for each next message on `filter`, one request per
/// message on it (on the multi-topic subject, other topics' events
/// included): slower than a consumer's fetches, and whole. JetStream 2.9 places a replay's one-replica consumer on any
/// node of the stream, one that is down included, and never answers for
/// it: with one node of three down, replays failed until the hub gave up
/// and sent a gap. The leader's answers need no check of what was passed
/// over.
async fn scan_by_leader(
    stream: &Stream<()>,
    filter: &str,
    after: u64,
    before: u64,
    mut gathered: Gathered,
    keep: impl Fn(&str) -> bool,
) -> Result<(Vec<StoredEvent>, bool), StoreError> {
    let mut from = after + 1;
    while from < before {
        let message = match stream
            .raw_message_builder()
            .sequence(from)
            .next_by_subject(filter)
            .send()
            .await
        {
            Ok(message) => message,
            Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => break,
            Err(error) => return Err(StoreError::new(error)),
        };
        let seq = message.sequence;
        if seq < from {
            return Err(StoreError::new(format!(
                "the stream's leader answered {seq} for the first message on {filter} from {from}"
            )));
        }
        if seq >= before {
            break;
        }
        let topics = topics_of(Some(&message.headers));
        if gathered.offer(seq, topics, &message.payload, &keep) {
            return Ok((gathered.events, true));
        }
        from = seq + 1;
    }
    Ok((gathered.events, false))
}

/// The events a scan keeps, within its bounds.
struct Gathered {
    events: Vec<StoredEvent>,
    bytes: usize,
    want: usize,
    budget: usize,
}

impl Gathered {
    fn new(want: usize, budget: usize) -> Self {
        Self {
            events: Vec::new(),
            bytes: 0,
            want,
            budget,
        }
    }

    /// Offers the message `seq` whose `Sse-Topics` are `topics`, kept when
    /// `keep` accepts them; whether the scan is full: it ends at a bound,
    /// complete only up to its last event (a message that would pass the
    /// byte bound is not kept, unless it would be the first).
    fn offer(
        &mut self,
        seq: u64,
        topics: &str,
        payload: &Bytes,
        keep: impl Fn(&str) -> bool,
    ) -> bool {
        if !keep(topics) {
            return false;
        }
        let size = payload.len();
        if !self.events.is_empty() && self.bytes.saturating_add(size) > self.budget {
            return true;
        }
        self.bytes = self.bytes.saturating_add(size);
        self.events.push(StoredEvent {
            seq,
            event: payload.clone(),
        });
        self.events.len() == self.want || self.bytes >= self.budget
    }
}

/// A message's `Sse-Topics` header, empty when it has none.
fn topics_of(headers: Option<&HeaderMap>) -> &str {
    headers
        .and_then(|headers| headers.get(TOPICS))
        .map_or("", |value| value.as_str())
}

/// Whether the stream holds every message in `(after, before)`.
async fn holds_all(shared: &Shared, after: u64, before: u64) -> Result<bool, StoreError> {
    let stream = shared
        .jetstream
        .get_stream_no_info(&shared.stream)
        .await
        .map_err(StoreError::new)?;
    let info = stream
        .info_builder()
        .with_deleted(true)
        .fetch()
        .await
        .map_err(StoreError::new)?
        .info;
    let state = &info.state;
    if state.first_sequence > after.saturating_add(1) {
        return Ok(false);
    }
    let deleted = state.deleted.as_deref().unwrap_or_default();
    Ok(!deleted.iter().any(|&seq| seq > after && seq < before))
}
