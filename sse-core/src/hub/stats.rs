//! [`HubStats`]: counters and gauges of a hub.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::GapReason;
use super::lock::lock;
use super::slots::Slots;
use crate::metrics::{EndNote, HubMetrics, StreamMetrics, SubscriberMetrics};

/// A snapshot of a hub's counters (since it was built) and gauges (now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HubStats {
    /// Topics that exist now.
    pub topics: usize,
    /// Subscriptions alive now.
    pub subscribers: usize,
    /// Events published.
    pub published: u64,
    /// Events delivered to subscribers, replayed and live.
    pub delivered: u64,
    /// Of those, events that were already in the log when the subscription
    /// was made (a reconnect catching up).
    pub replayed: u64,
    /// Gap signals sent for cursors that could not be honoured.
    pub gaps: u64,
    /// Of those, subscribers the log overtook while they were connected.
    pub lagged: u64,
    /// Subscriptions refused because the hub, or a topic, had as many
    /// subscribers as it admits ([`HubBuilder::max_subscribers`](super::HubBuilder::max_subscribers)).
    pub refused: u64,
}

/// The size of one topic's log and its subscribers, now; see
/// [`Hub::topic_stats`](super::Hub::topic_stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TopicStats {
    /// Events in the log.
    pub events: usize,
    /// Their encoded bytes, ids included.
    pub bytes: usize,
    /// Subscriptions to the topic alive now.
    pub subscribers: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Written only by [`Shared::join`](super::shared::Shared::join) and
    /// [`Shared::leave`](super::shared::Shared::leave).
    pub(super) subscribers: AtomicUsize,
    published: AtomicU64,
    gaps: AtomicU64,
    lagged: AtomicU64,
    refused: AtomicU64,
    /// Deliveries of the subscribers that have left.
    delivered: AtomicU64,
    replayed: AtomicU64,
    /// The delivery counts of the subscribers alive now.
    live: Mutex<Slots<Arc<SubscriberCounts>>>,
    /// The same figures through the `metrics` facade (nothing without the
    /// feature).
    metrics: HubMetrics,
}

/// One subscriber's deliveries. Only that subscriber writes them, with plain
/// loads and stores: a counter shared by every subscriber would take an
/// atomic read-modify-write per event and subscriber, on a cache line
/// bounced between all the server's threads.
#[derive(Debug, Default)]
pub(crate) struct SubscriberCounts {
    delivered: AtomicU64,
    replayed: AtomicU64,
    metrics: SubscriberMetrics,
}

impl SubscriberCounts {
    /// Counts one delivery. Only the owning subscriber calls it.
    pub(crate) fn delivered(&self, replayed: bool) {
        bump(&self.delivered);
        if replayed {
            bump(&self.replayed);
        }
        self.metrics.delivered(replayed);
    }

    /// What the subscriber's body counts with: its hub's handles.
    pub(crate) fn body_metrics(&self, note: EndNote) -> StreamMetrics {
        self.metrics.for_body(note)
    }
}

/// Adds one to a counter that only the caller writes.
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one event published.
    pub(crate) fn published(&self) {
        Self::add(&self.published, 1);
        self.metrics.published();
    }

    /// Counts one gap signal.
    pub(crate) fn gap(&self, reason: GapReason) {
        self.metrics.gap(reason);
        self.count_gap(reason == GapReason::Lagged);
    }

    /// Counts a subscriber closed when it lags ([`LagPolicy::Close`](super::LagPolicy::Close)):
    /// a lagged gap in [`HubStats`], the end of a stream in the metrics
    /// (no signal is sent).
    pub(crate) fn closed_lagging(&self) {
        self.count_gap(true);
    }

    fn count_gap(&self, lagged: bool) {
        Self::add(&self.gaps, 1);
        if lagged {
            Self::add(&self.lagged, 1);
        }
    }

    /// Registers a new subscriber's counts; the index is for [`Counters::leave`].
    pub(super) fn join(&self) -> (Arc<SubscriberCounts>, usize) {
        let counts = Arc::new(SubscriberCounts {
            metrics: self.metrics.joined(),
            ..SubscriberCounts::default()
        });
        let index = lock(&self.live).insert(Some(counts.clone()));
        (counts, index)
    }

    /// Moves a leaving subscriber's counts into the totals, under the lock a
    /// snapshot takes, so that they are counted exactly once.
    pub(super) fn leave(&self, index: usize) {
        let mut live = lock(&self.live);
        if let Some(counts) = live.remove(index) {
            self.metrics.left();
            Self::add(&self.delivered, counts.delivered.load(Ordering::Relaxed));
            Self::add(&self.replayed, counts.replayed.load(Ordering::Relaxed));
        }
    }

    pub(crate) fn snapshot(&self, topics: usize) -> HubStats {
        let (mut delivered, mut replayed) = {
            let live = lock(&self.live);
            live.values().fold((0, 0), |(delivered, replayed), counts| {
                (
                    delivered + counts.delivered.load(Ordering::Relaxed),
                    replayed + counts.replayed.load(Ordering::Relaxed),
                )
            })
        };
        delivered += self.delivered.load(Ordering::Relaxed);
        replayed += self.replayed.load(Ordering::Relaxed);
        HubStats {
            topics,
            subscribers: self.subscribers.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
            delivered,
            replayed,
            gaps: self.gaps.load(Ordering::Relaxed),
            lagged: self.lagged.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }

    pub(super) fn refused(&self, per_topic: bool) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.metrics.refused(per_topic);
    }
}
