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
use crate::compression::Codec;
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

/// A hub's handles, taken when it is built and shared (one pointer each)
/// by its subscribers and their bodies.
pub(crate) struct HubMetrics(Arc<HubHandles>);

struct HubHandles {
    published: Counter,
    delivered: Counter,
    replayed: Counter,
    subscribers: Gauge,
    gaps: [Counter; GAP_REASONS.len()],
    refused_hub: Counter,
    refused_topic: Counter,
    streams: Arc<StreamHandles>,
}

impl Default for HubMetrics {
    fn default() -> Self {
        Self(Arc::new(HubHandles {
            published: counter!(EVENTS_PUBLISHED),
            delivered: counter!(EVENTS_DELIVERED),
            replayed: counter!(EVENTS_REPLAYED),
            subscribers: gauge!(HUB_SUBSCRIBERS),
            gaps: GAP_REASONS.map(|reason| counter!(GAPS, "reason" => reason.as_str())),
            refused_hub: counter!(SUBSCRIPTIONS_REFUSED, "scope" => "hub"),
            refused_topic: counter!(SUBSCRIPTIONS_REFUSED, "scope" => "topic"),
            streams: Arc::new(StreamHandles::new()),
        }))
    }
}

impl HubMetrics {
    pub(crate) fn published(&self) {
        self.0.published.increment(1);
    }

    pub(crate) fn gap(&self, reason: GapReason) {
        if let Some(index) = GAP_REASONS.iter().position(|&known| known == reason) {
            self.0.gaps[index].increment(1);
        }
    }

    pub(crate) fn refused(&self, per_topic: bool) {
        match per_topic {
            true => self.0.refused_topic.increment(1),
            false => self.0.refused_hub.increment(1),
        }
    }

    /// A subscriber joins: its handles.
    pub(crate) fn joined(&self) -> SubscriberMetrics {
        self.0.subscribers.increment(1);
        SubscriberMetrics(Some(self.0.clone()))
    }

    pub(crate) fn left(&self) {
        self.0.subscribers.decrement(1);
    }
}

impl fmt::Debug for HubMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubMetrics").finish_non_exhaustive()
    }
}

/// One subscriber's handles (its hub's): a delivery is one atomic add on a
/// counter the recorder shares, no look-up.
#[derive(Default)]
pub(crate) struct SubscriberMetrics(Option<Arc<HubHandles>>);

impl SubscriberMetrics {
    #[inline]
    pub(crate) fn delivered(&self, replayed: bool) {
        if let Some(handles) = &self.0 {
            handles.delivered.increment(1);
            if replayed {
                handles.replayed.increment(1);
            }
        }
    }

    /// What the subscriber's body counts with.
    pub(crate) fn for_body(&self, note: EndNote) -> StreamMetrics {
        StreamMetrics {
            handles: self.0.as_ref().map(|hub| hub.streams.clone()),
            note,
            open: false,
            ended: false,
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

/// The handles every body counts with.
struct StreamHandles {
    /// By encoding: identity, then [`Codec::ALL`]'s.
    written: [Counter; 1 + Codec::ALL.len()],
    uncompressed: Counter,
    keep_alive: Counter,
    open: Gauge,
}

impl StreamHandles {
    fn new() -> Self {
        Self {
            written: [
                None,
                Some(Codec::ALL[0]),
                Some(Codec::ALL[1]),
                Some(Codec::ALL[2]),
            ]
            .map(|codec| {
                let encoding = codec.map_or("identity", Codec::as_str);
                counter!(WRITTEN_BYTES, "encoding" => encoding)
            }),
            uncompressed: counter!(UNCOMPRESSED_BYTES),
            keep_alive: counter!(KEEP_ALIVE_COMMENTS),
            open: gauge!(STREAMS_OPEN),
        }
    }
}

/// A body's handles (its hub's, or taken at its first poll), and whether
/// its end is counted. A body is open from its first poll.
#[derive(Default)]
pub(crate) struct StreamMetrics {
    handles: Option<Arc<StreamHandles>>,
    note: EndNote,
    /// Counted in the open streams' gauge (polled once).
    open: bool,
    ended: bool,
}

impl StreamMetrics {
    /// The body is polled: open from the first time.
    #[inline]
    pub(crate) fn polled(&mut self) {
        if !self.open {
            self.open = true;
            let handles = self
                .handles
                .get_or_insert_with(|| Arc::new(StreamHandles::new()));
            handles.open.increment(1);
        }
    }

    /// Takes `other`'s handles (unless polled already) and note.
    pub(crate) fn replace(&mut self, mut other: Self) {
        if let Some(handles) = other.handles.take()
            && !self.open
        {
            self.handles = Some(handles);
        }
        self.note = std::mem::take(&mut other.note);
    }

    /// A frame of `bytes` handed to the server, compressed with `codec`.
    #[inline]
    pub(crate) fn written(&self, bytes: usize, codec: Option<Codec>) {
        if let Some(handles) = &self.handles {
            let index = match codec {
                None => 0,
                Some(codec) => 1 + Codec::ALL.iter().position(|&c| c == codec).unwrap_or(0),
            };
            handles.written[index].increment(bytes as u64);
        }
    }

    /// `bytes` of event-stream text given to the stream's compressor.
    #[inline]
    pub(crate) fn uncompressed(&self, bytes: usize) {
        if let Some(handles) = &self.handles {
            handles.uncompressed.increment(bytes as u64);
        }
    }

    pub(crate) fn keep_alive(&self) {
        if let Some(handles) = &self.handles {
            handles.keep_alive.increment(1);
        }
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
        // A body never polled was never open.
        if let (true, Some(handles)) = (self.open, &self.handles) {
            handles.open.decrement(1);
            if !self.ended {
                count_end(EndReason::ClientGone);
            }
        }
    }
}
