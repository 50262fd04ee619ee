//! How a hub's logs are bounded and what it does at their edges.

use std::time::Duration;

/// Bounds of each topic's log: the oldest events are evicted past any of them.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::hub::{Hub, LogLimits};
///
/// let hub = Hub::builder()
///     .log_limits(
///         LogLimits::new()
///             .max_events(10_000)
///             .max_bytes(64 << 20)
///             .max_age(Duration::from_secs(3600)),
///     )
///     .build();
/// # drop(hub);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    pub(crate) max_events: usize,
    pub(crate) max_bytes: usize,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_event_bytes: usize,
}

impl LogLimits {
    /// 1,000 events, 16 MiB, no age limit, events up to 1 MiB.
    pub const fn new() -> Self {
        Self {
            max_events: 1_000,
            max_bytes: 16 << 20,
            max_age: None,
            max_event_bytes: 1 << 20,
        }
    }

    /// Keeps at most this many events per topic (at least one).
    pub const fn max_events(mut self, max: usize) -> Self {
        self.max_events = if max == 0 { 1 } else { max };
        self
    }

    /// Keeps at most this many encoded bytes per topic.
    pub const fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// Evicts events older than this.
    pub const fn max_age(mut self, max: Duration) -> Self {
        self.max_age = Some(max);
        self
    }

    /// Refuses to publish an event whose encoding is larger than this (or than
    /// [`max_bytes`](LogLimits::max_bytes), if that is smaller: an event larger
    /// than the whole log could never be read).
    pub const fn max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }
}

impl Default for LogLimits {
    fn default() -> Self {
        Self::new()
    }
}

/// What a subscription does when it reads so slowly that the log evicts
/// events it has not read yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LagPolicy {
    /// Send the gap signal and go on from the oldest event still in the log.
    #[default]
    SignalGap,
    /// End the stream; the client reconnects with its last id and is told of
    /// the gap then.
    Close,
}
