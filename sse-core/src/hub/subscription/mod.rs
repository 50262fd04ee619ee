//! [`Subscription`]: a cursor into the logs of one or more topics, read as a
//! stream; its life is one state machine, [`Phase`].
//!
//! - `reader`: the cursor and the two read paths (locked, and the tails).
//! - `replay`: events the logs evicted, fetched from the store.
//! - `ahead`: a cursor newer than a shared store's feed has reached.
//! - `delivery`: the filter, delivery counts and gap signals.

mod ahead;
mod delivery;
mod gap_signals;
mod reader;
mod replay;
mod span;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::time::Sleep;

use self::ahead::{Ahead, AheadCheck};
use self::delivery::Delivery;
pub use self::delivery::PublishedEvent;
use self::reader::{Read, Reader};
use self::replay::Replay;
use super::shared::Shared;
use super::topic::Topic;
use super::{Gap, GapReason, LagPolicy, Position, SubscribeError};
use crate::jitter::{shorten, spread};
use crate::metrics::{EndNote, EndReason};
use crate::{
    EncodedEvent, Event, InfallibleStream, KeepAlive, LastEventId, RequestCursor, SseBody,
};

/// A subscriber: a cursor into the logs of its topics, read as a `Stream` of
/// encoded events. Made by [`Hub::subscribe`](super::Hub::subscribe).
///
/// It holds no queue of its own: a subscriber that reads slowly is only an
/// old cursor, and when the log evicts events it has not read, it is told
/// with a [`Gap`] (or closed, by the hub's [`LagPolicy`]). Dropping it
/// releases it at once.
///
/// A subscriber that is caught up reads new events without taking the
/// topic's lock, from blocks of eight events it holds one at a time. One that
/// stops reading (its client's connection is stalled) keeps that one block
/// alive, at most eight events, whatever is published after.
#[must_use = "streams do nothing unless polled"]
pub struct Subscription {
    hub: Arc<Shared>,
    reader: Reader,
    phase: Phase,
    delivery: Delivery,
    /// The client's `Last-Event-ID`, reported in the gap signal when it
    /// cannot be honoured; until then it is still being resumed from.
    requested: Option<LastEventId>,
    /// No read has happened yet since the subscription was made (or since a
    /// replay round of the client's resume): a gap found now is one of the
    /// client's cursor (evicted), not of a slow reader (lagged).
    first_read: bool,
    /// The reason of the replay whose round was just taken in (or of the
    /// loss just told), with the head then: a gap the next reads find up to
    /// that head, before reading the log again, is the rest of the same one
    /// (a loss replayed in rounds stays a loss, even once the rounds have
    /// passed the lost events); one past it is new (the client lagged
    /// since).
    continues: Option<(GapReason, u64)>,
    lifetime: Option<Duration>,
    deadline: Option<Pin<Box<Sleep>>>,
    retry: Option<Duration>,
    counts_index: usize,
    /// One span per stream (see `span`), boxed and only while enabled: a
    /// subscriber's size is memory held per connection.
    span: Option<Box<tracing::Span>>,
    /// Why the stream ended.
    end: Option<EndReason>,
    /// Shared with the body of [`Subscription::into_body`], which counts the
    /// end (nothing without the `metrics` feature).
    end_note: EndNote,
}

/// Where a subscription is in its life. Boxed where rare and large: an idle
/// subscriber is mostly its cursor, and its size is memory held per
/// connection.
///
/// ```text
/// Gap ──────────────┐
/// Ahead ──(caught up, unknown)──▶ Reading ◀──(round done)──▶ Replaying
///   └──(evicted)──▶ Replaying                │ (closed, lagged and closing,
///                                            ▼  lifetime over)
///                                         Finished
/// ```
enum Phase {
    /// The client's cursor cannot be honoured: a gap signal goes first.
    Gap(GapReason),
    /// The client's cursor is newer than this process's feed has reached
    /// (a hub on a shared store): reading waits while it is checked.
    Ahead(Box<Ahead>),
    /// Reading the logs, replayed events first.
    Reading,
    /// Fetching from the store events the logs evicted.
    /// (With the cursor-ahead check it interrupted, resumed after the round.)
    Replaying(Box<Replay>, Option<Box<Ahead>>),
    /// What is queued goes, then the stream ends.
    Finished,
}

impl Subscription {
    /// A subscription to `topics` that resumes after the client's `cursor`.
    /// One that cannot be read starts with an `unknown` gap, like one this
    /// hub never gave.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::Full`] past the hub's limits on subscribers.
    pub(crate) fn new(
        hub: Arc<Shared>,
        topics: Vec<Arc<Topic>>,
        cursor: RequestCursor,
    ) -> Result<Self, SubscribeError> {
        let head = hub.head();
        let unusable = matches!(cursor, RequestCursor::Invalid(_));
        let requested = match cursor {
            RequestCursor::Valid(id) => Some(id),
            RequestCursor::Absent | RequestCursor::Invalid(_) => None,
        };
        let (cursor, phase) = match requested.as_ref().map(|id| Position::parse(id.as_str())) {
            None if unusable => (head, Phase::Gap(GapReason::Unknown)),
            None => (head, Phase::Reading),
            Some(None) => (head, Phase::Gap(GapReason::Unknown)),
            Some(Some(position)) if position.epoch() != hub.epoch() => {
                (head, Phase::Gap(GapReason::Foreign))
            }
            Some(Some(position)) if position.seq() > head && hub.is_fed() => {
                (position.seq(), Phase::Ahead(Box::new(Ahead::new())))
            }
            Some(Some(position)) if position.seq() > head => (head, Phase::Gap(GapReason::Unknown)),
            Some(Some(position)) => (position.seq(), Phase::Reading),
        };
        let fresh = !matches!(phase, Phase::Reading | Phase::Ahead(_)) || requested.is_none();
        let (max, max_per_topic) = hub.max_subscribers();
        let reader = Reader::new(topics, cursor, fresh, max_per_topic).map_err(|topic| {
            SubscribeError::Full {
                limit: max_per_topic,
                topic: Some(topic.to_string()),
            }
        })?;
        // After the topics: a reader dropped here counts itself out of them.
        let (counts, counts_index) = hub.join().ok_or(SubscribeError::Full {
            limit: max,
            topic: None,
        })?;
        let span = span::stream_span(&reader.topic_names(), &phase, requested.as_ref());
        tracing::debug!(parent: &span, "subscribed");
        let span = (!span.is_disabled()).then(|| Box::new(span));
        Ok(Self {
            delivery: Delivery::new(hub.epoch(), head, counts),
            hub,
            reader,
            phase,
            requested,
            first_read: true,
            continues: None,
            lifetime: None,
            deadline: None,
            retry: None,
            counts_index,
            span,
            end: None,
            end_note: EndNote::default(),
        })
    }

    /// Delivers only the events `filter` accepts, replayed and live alike: for
    /// authorization, or a per-client selection. A filter that panics is taken
    /// to refuse the event (and the panic is logged); the hub goes on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futures_util::StreamExt;
    /// use sse_engine::Event;
    /// use sse_engine::hub::Hub;
    ///
    /// let hub = Hub::new();
    /// let mut mine = hub
    ///     .subscribe(&["orders"], None)
    ///     .unwrap()
    ///     .filter(|event| event.event_type() == Some("order-7"));
    /// hub.publish("orders", Event::new().event("order-6").data("not yours")).await.unwrap();
    /// hub.publish("orders", Event::new().event("order-7").data("yours")).await.unwrap();
    /// let delivered = mine.next().await.unwrap();
    /// assert!(delivered.as_bytes().ends_with(b"data: yours\n\n"));
    /// # }
    /// ```
    pub fn filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&PublishedEvent<'_>) -> bool + Send + Sync + 'static,
    {
        self.delivery.filter = Some(Arc::new(filter));
        self
    }

    /// Sends what `handler` returns instead of the default gap event: a
    /// snapshot of the state the client missed, for example. When none of the
    /// returned events has an id, the last one gets the gap's
    /// [`resume_after`](Gap::resume_after), so that the client's
    /// `Last-Event-ID` moves past the gap. A handler that panics is replaced by
    /// the default gap event (and the panic is logged). A handler that returns
    /// no event sends nothing: the client is not told and its cursor does not
    /// move, so it meets the same gap when it reconnects.
    pub fn on_gap<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Gap) -> Vec<Event> + Send + Sync + 'static,
    {
        self.delivery.on_gap = Some(Arc::new(handler));
        self
    }

    /// Ends the stream after about `lifetime`, shortened at random by up to a
    /// tenth so that clients connected together do not reconnect together.
    /// The client reconnects with its last id and loses nothing.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The reconnection delay [`Subscription::into_body`] sends first,
    /// lengthened at random by up to a half so that clients that lose the
    /// server together do not come back together.
    pub fn retry(mut self, base: Duration) -> Self {
        self.retry = Some(base);
        self
    }

    /// The position after which reading resumes.
    pub fn cursor(&self) -> Position {
        Position::new(self.hub.epoch(), self.reader.cursor())
    }

    /// The subscription as a response body, with a 15 s keep-alive and the
    /// [`retry`](Subscription::retry) delay if one was set.
    pub fn into_body(mut self) -> SseBody<InfallibleStream<Self>> {
        let retry = self.retry.map(|base| spread(base, 0.5));
        self.end_note = EndNote::new();
        let metrics = self.delivery.body_metrics(self.end_note.clone());
        let body = SseBody::from_infallible_stream(self)
            .keep_alive(KeepAlive::new())
            .with_metrics(metrics);
        match retry {
            Some(retry) => body.retry(retry),
            None => body,
        }
    }

    /// Whether the lifetime set with [`Subscription::max_lifetime`] is over
    /// (its timer starts at the first poll).
    fn lifetime_over(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(lifetime) = self.lifetime.take() {
            self.deadline = Some(Box::pin(tokio::time::sleep(shorten(lifetime, 0.1))));
        }
        self.deadline
            .as_mut()
            .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready())
    }
}

impl Stream for Subscription {
    type Item = EncodedEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EncodedEvent>> {
        let this = &mut *self;
        this.reader.take_wakeup();
        loop {
            if let Some(event) = this.delivery.pop_queued() {
                return Poll::Ready(Some(event));
            }
            if matches!(this.phase, Phase::Finished) {
                return Poll::Ready(None);
            }
            if this.lifetime_over(cx) {
                this.ended(EndReason::Lifetime);
                this.phase = Phase::Finished;
                continue;
            }
            match &mut this.phase {
                Phase::Finished | Phase::Reading => {}
                Phase::Gap(reason) => {
                    let reason = *reason;
                    this.phase = Phase::Reading;
                    this.first_read = false;
                    this.signal_gap(reason, this.reader.cursor());
                    continue;
                }
                Phase::Replaying(replay, _) => {
                    let Poll::Ready(rounds) = replay.poll(cx) else {
                        return Poll::Pending;
                    };
                    if let Phase::Replaying(replay, ahead) =
                        std::mem::replace(&mut this.phase, Phase::Reading)
                    {
                        this.replayed(&replay, rounds);
                        if let Some(ahead) = ahead {
                            this.phase = Phase::Ahead(ahead);
                        }
                    }
                    continue;
                }
                Phase::Ahead(ahead) => {
                    let hub = &this.hub;
                    match ahead.poll(cx, this.reader.cursor(), || hub.head(), hub.store()) {
                        AheadCheck::CaughtUp => this.phase = Phase::Reading,
                        // Read on all the same, to register the waker: nothing
                        // past the head is readable.
                        AheadCheck::Wait => this.reader.disarm(),
                        AheadCheck::Unknown { head } => {
                            // Not an id this store gave.
                            this.phase = Phase::Reading;
                            this.reader.set_cursor(head);
                            this.first_read = false;
                            this.signal_gap(GapReason::Unknown, head);
                            continue;
                        }
                    }
                }
            }
            let filtered = this.delivery.filter.is_some();
            match this.reader.read_tails(&this.hub, cx, filtered) {
                Some(Poll::Ready(read)) => {
                    let mut event = this.delivery.delivered(read.seq, read.bytes);
                    if read.last_ready && this.delivery.nothing_queued() {
                        event.set_last_ready();
                    }
                    return Poll::Ready(Some(event));
                }
                Some(Poll::Pending) => return Poll::Pending,
                None => {}
            }
            let read = this.reader.read(&this.hub, cx, filtered);
            // While a cursor ahead is waited for nothing past it is readable:
            // the client's resume has not begun.
            let first_read = if matches!(this.phase, Phase::Ahead(_)) {
                this.first_read
            } else {
                std::mem::replace(&mut this.first_read, false)
            };
            match read {
                Read::Event(candidate) => {
                    if !candidate.is_restored() {
                        this.continues = None;
                    }
                    this.reader.take(&candidate);
                    let topic = this.reader.topic_name(candidate.topic);
                    if let Some(event) = this.delivery.deliver(candidate.entry, topic) {
                        return Poll::Ready(Some(event));
                    }
                }
                Read::Lost { topics } => {
                    if matches!(this.phase, Phase::Ahead(_)) {
                        // The cursor is not known to be one the store gave:
                        // the check, whose timer wakes this, comes first.
                        return Poll::Pending;
                    }
                    // Nothing can fill it: told at once, where the events
                    // are missing, after every event held before them.
                    if !first_read {
                        this.requested = None;
                    }
                    let head = this.hub.head();
                    let through = topics.iter().map(|&(_, through)| through).min();
                    this.reader.deal_with(&topics);
                    let resume_after = this.reader.skip_gap(through.unwrap_or(head), head);
                    this.signal_gap(GapReason::Lost, resume_after);
                    this.continues = Some((GapReason::Lost, head));
                }
                Read::Gap {
                    through,
                    topics,
                    lost,
                } => {
                    let ahead = match std::mem::replace(&mut this.phase, Phase::Reading) {
                        Phase::Ahead(ahead) => Some(ahead),
                        _ => None,
                    };
                    let continued = this
                        .continues
                        .take()
                        .filter(|&(_, head)| through <= head)
                        .map(|(reason, _)| reason);
                    let reason = if lost {
                        // Past its first read, the client is no longer
                        // resuming: the cursor it connected with is not
                        // the one the loss cut.
                        if !first_read {
                            this.requested = None;
                        }
                        GapReason::Lost
                    } else if let Some(reason) = continued {
                        reason
                    } else if first_read && this.requested.is_some() {
                        GapReason::Evicted
                    } else {
                        GapReason::Lagged
                    };
                    this.phase = this.evicted(through, &topics, reason, ahead);
                }
                Read::InFlight => {
                    // An event is being appended to the logs right now; it is
                    // readable in a moment.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Read::Closed => {
                    this.ended(EndReason::Shutdown);
                    this.phase = Phase::Finished;
                    if let Some(last) = this.hub.final_event() {
                        this.delivery.queue(last);
                    }
                }
                Read::Pending => {
                    this.continues = None;
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.log_end();
        self.reader.leave();
        self.hub.leave(self.counts_index);
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topics", &self.reader.topic_names())
            .field("cursor", &self.cursor())
            .field("queued", &self.delivery.queued())
            .field("filter", &self.delivery.filter.is_some())
            .field("finished", &matches!(self.phase, Phase::Finished))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
