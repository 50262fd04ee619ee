//! The recording side, with the `metrics` feature: handles taken once per
//! hub, subscriber and stream, so that counting is an atomic add.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use metrics::{Counter, Gauge, counter, gauge};

use super::{
    EVENTS_DELIVERED, EVENTS_PUBLISHED, EVENTS_REPLAYED, EndReason, GAPS, HUB_SUBSCRIBERS,
    KEEP_ALIVE_COMMENTS, STREAMS_ENDED, STREAMS_OPEN, SUBSCRIPTIONS_REFUSED, UNCOMPRESSED_BYTES,
    WRITTEN_BYTES,
};
use crate::hub::GapReason;

const GAP_REASONS: [GapReason; 5] = [
    GapReason::Evicted,
    GapReason::Lagged,
    GapReason::Foreign,
    GapReason::Unknown,
    GapReason::Lost,
];

/// Counts one stream ended for `reason`.
pub(super) fn count_end(reason: EndReason) {
    counter!(STREAMS_ENDED, "reason" => reason.as_str()).increment(1);
}

/// A hub's handles, taken when it is built.
pub(crate) struct HubMetrics {
    published: Counter,
    delivered: Counter,
    replayed: Counter,
    subscribers: Gauge,
    gaps: [Counter; GAP_REASONS.len()],
    refused_hub: Counter,
    refused_topic: Counter,
}

impl Default for HubMetrics {
    fn default() -> Self {
        Self {
            published: counter!(EVENTS_PUBLISHED),
            delivered: counter!(EVENTS_DELIVERED),
            replayed: counter!(EVENTS_REPLAYED),
            subscribers: gauge!(HUB_SUBSCRIBERS),
            gaps: GAP_REASONS.map(|reason| counter!(GAPS, "reason" => reason.as_str())),
            refused_hub: counter!(SUBSCRIPTIONS_REFUSED, "scope" => "hub"),
            refused_topic: counter!(SUBSCRIPTIONS_REFUSED, "scope" => "topic"),
        }
    }
}

impl HubMetrics {
    pub(crate) fn published(&self) {
        self.published.increment(1);
    }

    pub(crate) fn gap(&self, reason: GapReason) {
        if let Some(index) = GAP_REASONS.iter().position(|&known| known == reason) {
            self.gaps[index].increment(1);
        }
    }

    pub(crate) fn refused(&self, per_topic: bool) {
        match per_topic {
            true => self.refused_topic.increment(1),
            false => self.refused_hub.increment(1),
        }
    }

    /// A subscriber joins: its handles.
    pub(crate) fn joined(&self) -> SubscriberMetrics {
        self.subscribers.increment(1);
        SubscriberMetrics {
            delivered: self.delivered.clone(),
            replayed: self.replayed.clone(),
        }
    }

    pub(crate) fn left(&self) {
        self.subscribers.decrement(1);
    }
}

impl fmt::Debug for HubMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubMetrics").finish_non_exhaustive()
    }
}

/// One subscriber's handles: a delivery is one atomic add on a counter the
/// recorder shares, no look-up.
pub(crate) struct SubscriberMetrics {
    delivered: Counter,
    replayed: Counter,
}

impl Default for SubscriberMetrics {
    fn default() -> Self {
        Self {
            delivered: Counter::noop(),
            replayed: Counter::noop(),
        }
    }
}

impl SubscriberMetrics {
    #[inline]
    pub(crate) fn delivered(&self, replayed: bool) {
        self.delivered.increment(1);
        if replayed {
            self.replayed.increment(1);
        }
    }
}

impl fmt::Debug for SubscriberMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriberMetrics").finish_non_exhaustive()
    }
}

/// Why a stream's source ended, noted by the source (a hub subscription)
/// for the body that counts the end.
#[derive(Clone, Default)]
pub(crate) struct EndNote(Option<Arc<AtomicU8>>);

const NO_REASON: u8 = u8::MAX;
const NOTED: [EndReason; 3] = [
    EndReason::Lifetime,
    EndReason::Shutdown,
    EndReason::LagPolicy,
];

impl EndNote {
    pub(crate) fn new() -> Self {
        Self(Some(Arc::new(AtomicU8::new(NO_REASON))))
    }

    /// Notes `reason` (lifetime, shutdown or lag policy; others are the
    /// body's to tell).
    pub(crate) fn set(&self, reason: EndReason) {
        if let (Some(cell), Some(index)) = (&self.0, NOTED.iter().position(|&r| r == reason)) {
            cell.store(index as u8, Ordering::Relaxed);
        }
    }

    fn get(&self) -> Option<EndReason> {
        let index = self.0.as_ref()?.load(Ordering::Relaxed);
        NOTED.get(usize::from(index)).copied()
    }
}

/// A body's handles, and whether its end is counted.
pub(crate) struct StreamMetrics {
    written: Counter,
    uncompressed: Counter,
    keep_alive: Counter,
    open: Gauge,
    note: EndNote,
    ended: bool,
}

impl Default for StreamMetrics {
    fn default() -> Self {
        let open = gauge!(STREAMS_OPEN);
        open.increment(1);
        Self {
            written: counter!(WRITTEN_BYTES),
            uncompressed: counter!(UNCOMPRESSED_BYTES),
            keep_alive: counter!(KEEP_ALIVE_COMMENTS),
            open,
            note: EndNote::default(),
            ended: false,
        }
    }
}

impl StreamMetrics {
    pub(crate) fn set_note(&mut self, note: EndNote) {
        self.note = note;
    }

    /// A frame of `bytes` handed to the server.
    #[inline]
    pub(crate) fn written(&self, bytes: usize) {
        self.written.increment(bytes as u64);
    }

    /// `bytes` of event-stream text, before compression.
    #[inline]
    pub(crate) fn uncompressed(&self, bytes: usize) {
        self.uncompressed.increment(bytes as u64);
    }

    pub(crate) fn keep_alive(&self) {
        self.keep_alive.increment(1);
    }

    /// The stream ended on its own (`failed`: with an error).
    pub(crate) fn ended(&mut self, failed: bool) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let reason = match failed {
            true => EndReason::Error,
            false => self.note.get().unwrap_or(EndReason::Complete),
        };
        count_end(reason);
    }
}

impl Drop for StreamMetrics {
    fn drop(&mut self) {
        self.open.decrement(1);
        if !self.ended {
            count_end(EndReason::ClientGone);
        }
    }
}
