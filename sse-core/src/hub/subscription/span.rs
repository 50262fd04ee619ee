//! A subscription's `tracing` span and the end of its stream: one span per
//! stream at `debug` (its topics and how its cursor was resolved), closed
//! with a `debug` event that says why the stream ended, so that an `info`
//! filter shows none of it.

use tracing::Span;

use super::{Phase, Subscription};
use crate::LastEventId;
use crate::metrics::EndReason;

/// The span of a new subscription to `topics`: `cursor` is `fresh` (no
/// `Last-Event-ID`), `resumed`, `ahead` (newer than a shared store's feed
/// has reached, being checked) or `gap` (with the gap's reason).
pub(super) fn stream_span(topics: &[&str], phase: &Phase, requested: Option<&LastEventId>) -> Span {
    let (cursor, gap) = match phase {
        Phase::Gap(reason) => ("gap", Some(reason.as_str())),
        Phase::Ahead(_) => ("ahead", None),
        _ if requested.is_some() => ("resumed", None),
        _ => ("fresh", None),
    };
    tracing::debug_span!(
        "sse_stream",
        topics = ?topics,
        cursor,
        gap,
        last_event_id = requested.map(LastEventId::as_str),
    )
}

impl Subscription {
    /// Notes why the stream ends (the first reason given stands), for its
    /// span and the body's count of stream endings.
    pub(super) fn ended(&mut self, reason: EndReason) {
        if self.end.is_none() {
            self.end = Some(reason);
            self.end_note.set(reason);
        }
    }

    /// Closes the span: the stream ended, or its body was dropped before
    /// (the client went away, or its connection was released).
    pub(super) fn log_end(&self) {
        if let Some(span) = &self.span {
            let reason = self.end.unwrap_or(EndReason::ClientGone);
            tracing::debug!(parent: &**span, reason = reason.as_str(), cursor = %self.cursor(), "stream ended");
        }
    }
}
