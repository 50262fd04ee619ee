//! Metrics through the [`metrics`](https://docs.rs/metrics) facade, with
//! the `metrics` feature: the library records, the application chooses the
//! exporter (for example `metrics-exporter-prometheus`) and installs it as
//! the global recorder **before** it builds its hubs and serves streams
//! (handles are taken from the recorder when a hub is built, and shared by
//! its subscribers and their bodies, or when another stream is first
//! polled: counting an event is an atomic add, never a registry look-up).
//!
//! Without the feature nothing is recorded and nothing is compiled in:
//! [`count_stalled_stream`] is then an empty function.
//!
//! | name | type | labels | what it counts |
//! | --- | --- | --- | --- |
//! | `sse_streams_open` | gauge | | event-stream bodies being served now, from their first poll ([`SseBody`](crate::SseBody), hub or not) |
//! | `sse_streams_ended_total` | counter | `reason` | bodies ended: `complete` (the stream ended on its own), `client_gone` (dropped before its end: the client left, or its connection was released), `lifetime` ([`Subscription::max_lifetime`](crate::hub::Subscription::max_lifetime)), `shutdown` (its hub or topic closed), `lag_policy` ([`LagPolicy::Close`](crate::hub::LagPolicy::Close)), `error` (the stream failed, or compression did), `stalled` ([`count_stalled_stream`]) |
//! | `sse_keep_alive_comments_total` | counter | | keep-alive comments written |
//! | `sse_written_bytes_total` | counter | `encoding` | bytes handed to the server, by `Content-Encoding`: `identity`, `gzip`, `br`, `zstd` |
//! | `sse_uncompressed_bytes_total` | counter | | bytes that compressed streams gave their compressor (their size uncompressed; what they became is `sse_written_bytes_total` without `identity`) |
//! | `sse_hub_subscribers` | gauge | | hub subscriptions alive now |
//! | `sse_hub_events_published_total` | counter | | events published (once per event, whatever its topics) |
//! | `sse_hub_events_delivered_total` | counter | | events delivered to subscribers, replayed and live |
//! | `sse_hub_events_replayed_total` | counter | | of those, events already in the log when the subscription was made |
//! | `sse_hub_gaps_total` | counter | `reason` | gap signals sent: `evicted`, `lagged`, `foreign`, `unknown`, `lost` ([`GapReason`](crate::hub::GapReason)) |
//! | `sse_hub_subscriptions_refused_total` | counter | `scope` | subscriptions refused at a limit ([`SubscribeError::Full`](crate::hub::SubscribeError::Full)): `scope="hub"` or `"topic"` |
//!
//! # Cardinality
//!
//! Every label value comes from a fixed list (the reasons and scopes
//! above): there is no label per topic, per client or per hub, so the
//! number of series is fixed (25) however many topics and clients come
//! and go. The figures of one topic are at hand with
//! [`Hub::topic_stats`](crate::hub::Hub::topic_stats); an application with a
//! small, known set of topics can export them as gauges of its own. Two
//! hubs in one process add to the same series.
//!
//! # Stalled clients
//!
//! A stalled connection is released at the socket (see [`stall`](crate::stall)):
//! the server drops the body, which cannot tell why, and counts it as
//! `client_gone`. Server glue that sees the connection end with a stall
//! ([`is_stalled`](crate::is_stalled)) calls [`count_stalled_stream`]:
//! `sse_axum::serve` once per connection released (it cannot see which of
//! its requests were event streams), so `stalled` counts connections,
//! mostly a part of `client_gone`, and may include a connection that
//! carried no event stream.

#[cfg(feature = "metrics")]
mod on;
#[cfg(feature = "metrics")]
pub(crate) use self::on::{EndNote, HubMetrics, StreamMetrics, SubscriberMetrics};

#[cfg(not(feature = "metrics"))]
mod off;
#[cfg(not(feature = "metrics"))]
pub(crate) use self::off::{EndNote, HubMetrics, StreamMetrics, SubscriberMetrics};

#[cfg(all(test, feature = "metrics"))]
mod tests;

/// Gauge: event-stream bodies alive now.
pub const STREAMS_OPEN: &str = "sse_streams_open";
/// Counter, label `reason`: event-stream bodies ended.
pub const STREAMS_ENDED: &str = "sse_streams_ended_total";
/// Counter: keep-alive comments written.
pub const KEEP_ALIVE_COMMENTS: &str = "sse_keep_alive_comments_total";
/// Counter, label `encoding`: bytes handed to the server, after compression.
pub const WRITTEN_BYTES: &str = "sse_written_bytes_total";
/// Counter: bytes of event-stream text given to a stream's compressor.
pub const UNCOMPRESSED_BYTES: &str = "sse_uncompressed_bytes_total";
/// Gauge: hub subscriptions alive now.
pub const HUB_SUBSCRIBERS: &str = "sse_hub_subscribers";
/// Counter: events published to a hub.
pub const EVENTS_PUBLISHED: &str = "sse_hub_events_published_total";
/// Counter: events delivered to hub subscribers.
pub const EVENTS_DELIVERED: &str = "sse_hub_events_delivered_total";
/// Counter: of the events delivered, those replayed.
pub const EVENTS_REPLAYED: &str = "sse_hub_events_replayed_total";
/// Counter, label `reason`: gap signals sent.
pub const GAPS: &str = "sse_hub_gaps_total";
/// Counter, label `scope`: subscriptions refused at a limit.
pub const SUBSCRIPTIONS_REFUSED: &str = "sse_hub_subscriptions_refused_total";

/// Why a stream ended: the `reason` label of [`STREAMS_ENDED`], and the
/// `reason` a stream's `tracing` span ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndReason {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    Complete,
    ClientGone,
    Lifetime,
    Shutdown,
    LagPolicy,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    Error,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    Stalled,
}

impl EndReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::ClientGone => "client_gone",
            Self::Lifetime => "lifetime",
            Self::Shutdown => "shutdown",
            Self::LagPolicy => "lag_policy",
            Self::Error => "error",
            Self::Stalled => "stalled",
        }
    }
}

/// Counts one stream whose connection was released because its client
/// stopped reading: `sse_streams_ended_total{reason="stalled"}`. Server
/// glue calls it when a connection that carried an event stream ends with
/// an error that [`is_stalled`](crate::is_stalled) recognises (see the
/// [module docs](self#stalled-clients)). Does nothing without the `metrics`
/// feature.
///
/// ```
/// use std::io;
///
/// fn connection_ended(error: &io::Error) {
///     if sse_engine::is_stalled(error) {
///         sse_engine::metrics::count_stalled_stream();
///     }
/// }
/// connection_ended(&io::Error::from(io::ErrorKind::TimedOut));
/// ```
#[inline]
pub fn count_stalled_stream() {
    #[cfg(feature = "metrics")]
    on::count_end(EndReason::Stalled);
}
