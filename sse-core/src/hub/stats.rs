//! [`HubStats`]: counters and gauges of a hub.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) subscribers: AtomicUsize,
    pub(crate) published: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) gaps: AtomicU64,
    pub(crate) lagged: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, topics: usize) -> HubStats {
        HubStats {
            topics,
            subscribers: self.subscribers.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            replayed: self.replayed.load(Ordering::Relaxed),
            gaps: self.gaps.load(Ordering::Relaxed),
            lagged: self.lagged.load(Ordering::Relaxed),
        }
    }
}
