//! [`Delivery`]: what a subscription hands its client: events its filter
//! allows, counted, and gap signals (the default gap event, or what the
//! application's gap handler returns).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;

use super::super::shared::Shared;
use super::super::stats::SubscriberCounts;
use super::super::topic::ReadEntry;
use super::super::{Epoch, Gap, Position};
use crate::metrics::{EndNote, StreamMetrics};
use crate::{EncodedEvent, Event};

/// An event as a subscription's filter sees it.
#[derive(Debug, Clone, Copy)]
pub struct PublishedEvent<'a> {
    topic: &'a str,
    position: Position,
    event_type: Option<&'a str>,
    data: Option<&'a str>,
}

impl<'a> PublishedEvent<'a> {
    /// The topic it was read from.
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// Its id.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Its event type, if it has one.
    pub fn event_type(&self) -> Option<&'a str> {
        self.event_type
    }

    /// Its data, if it has any.
    pub fn data(&self) -> Option<&'a str> {
        self.data
    }
}

pub(super) type Filter = Arc<dyn Fn(&PublishedEvent<'_>) -> bool + Send + Sync>;
pub(super) type GapHandler = Arc<dyn Fn(&Gap) -> Vec<Event> + Send + Sync>;

/// The delivering end of a subscription.
pub(super) struct Delivery {
    epoch: Epoch,
    pub(super) filter: Option<Filter>,
    pub(super) on_gap: Option<GapHandler>,
    /// Events up to here were in the log before the subscription was made:
    /// delivering them is counted as a replay.
    replay_through: u64,
    counts: Arc<SubscriberCounts>,
    /// Gap signals (and the final event) waiting to go before anything else.
    queued: VecDeque<EncodedEvent>,
}

impl Delivery {
    pub(super) fn new(epoch: Epoch, replay_through: u64, counts: Arc<SubscriberCounts>) -> Self {
        Self {
            epoch,
            filter: None,
            on_gap: None,
            replay_through,
            counts,
            queued: VecDeque::new(),
        }
    }

    /// What the subscription's body counts with.
    pub(super) fn body_metrics(&self, note: EndNote) -> StreamMetrics {
        self.counts.body_metrics(note)
    }

    /// The next queued event.
    pub(super) fn pop_queued(&mut self) -> Option<EncodedEvent> {
        self.queued.pop_front()
    }

    /// Whether no event is queued.
    pub(super) fn nothing_queued(&self) -> bool {
        self.queued.is_empty()
    }

    /// Queues an event to go before anything read after it.
    pub(super) fn queue(&mut self, event: EncodedEvent) {
        self.queued.push_back(event);
    }

    pub(super) fn queued(&self) -> usize {
        self.queued.len()
    }

    /// `entry`, read from the topic named `topic`, if the filter allows it.
    pub(super) fn deliver(&self, entry: ReadEntry, topic: &str) -> Option<EncodedEvent> {
        if !self.allows(&entry, topic) {
            return None;
        }
        Some(self.delivered(entry.seq, entry.bytes))
    }

    /// The event at `seq`, counted as delivered.
    pub(super) fn delivered(&self, seq: u64, bytes: Bytes) -> EncodedEvent {
        self.counts.delivered(seq <= self.replay_through);
        let id = Position::new(self.epoch, seq).to_event_id();
        EncodedEvent::from_parts(bytes, Some(id))
    }

    fn allows(&self, entry: &ReadEntry, topic: &str) -> bool {
        let Some(filter) = &self.filter else {
            return true;
        };
        let event = PublishedEvent {
            topic,
            position: Position::new(self.epoch, entry.seq),
            event_type: entry
                .meta
                .as_ref()
                .and_then(|meta| meta.event_type.as_deref()),
            data: entry.meta.as_ref().and_then(|meta| meta.data.as_deref()),
        };
        match catch_unwind(AssertUnwindSafe(|| filter(&event))) {
            Ok(allowed) => allowed,
            Err(_) => {
                tracing::error!(id = %event.position, "subscription filter panicked; event not delivered");
                false
            }
        }
    }

    /// Queues the signal of `gap`, counted in the hub's statistics.
    pub(super) fn signal_gap(&mut self, hub: &Shared, gap: &Gap) {
        hub.counters().gap(gap.reason);
        tracing::debug!(reason = %gap.reason, resume_after = %gap.resume_after, "gap");
        let default = || gap.to_event(hub.gap_event());
        let mut events = match &self.on_gap {
            None => vec![default()],
            Some(handler) => catch_unwind(AssertUnwindSafe(|| handler(gap))).unwrap_or_else(|_| {
                tracing::error!("gap handler panicked; sending the default gap event");
                vec![default()]
            }),
        };
        if events.iter().all(|event| event.get_id().is_none()) {
            if let Some(last) = events.pop() {
                events.push(last.id(gap.resume_after.to_event_id()));
            }
        }
        self.queued.extend(events.into_iter().map(Event::encode));
    }
}
