//! What a [`Subscription`] does with events its logs no longer hold:
//! replays them from the store, or signals a gap.

use super::reader;
use super::replay::Replay;
use super::{Ahead, Gap, GapReason, LagPolicy, Phase, Position, Subscription};
use crate::metrics::EndReason;

impl Subscription {
    /// Signals a gap in the client's stream that ends at `resume_after`.
    pub(super) fn signal_gap(&mut self, reason: GapReason, resume_after: u64) {
        // A slow reader's gap is not about the cursor it connected with.
        let requested = self
            .requested
            .take()
            .filter(|_| reason != GapReason::Lagged);
        let gap = Gap {
            reason,
            requested,
            resume_after: Position::new(self.hub.epoch(), resume_after),
        };
        self.delivery.signal_gap(&self.hub, &gap);
    }

    /// Evicted events after the cursor, found by a read in `topics` up to
    /// `through`: replayed from the store, or the stream ends when it lags
    /// and the hub's policy closes it.
    pub(super) fn evicted(
        &mut self,
        through: u64,
        topics: &[usize],
        reason: GapReason,
        ahead: Option<Box<Ahead>>,
    ) -> Phase {
        if reason == GapReason::Lagged && self.hub.lag_policy() == LagPolicy::Close {
            self.hub.counters().closed_lagging();
            self.ended(EndReason::LagPolicy);
            tracing::debug!("subscriber lagged; closing its stream");
            self.reader.set_cursor(through);
            return Phase::Finished;
        }
        let requests = self.reader.replay_requests(topics);
        let limit = self.hub.limits().max_events.max(1);
        let replay = Replay::start(self.hub.store().clone(), requests, through, limit, reason);
        Phase::Replaying(Box::new(replay), ahead)
    }

    /// Takes in what a replay round brought back: its events go before the
    /// logs' (still as part of the client's resume, which keeps its cursor),
    /// or, when the store could not give them all, a gap is signalled.
    pub(super) fn replayed(&mut self, replay: &Replay, rounds: Option<Vec<reader::RestoredTopic>>) {
        let Some(rounds) = rounds else {
            // Every gapped topic is dealt with up to `through` by the signal.
            self.reader.give_up_evicted_through(replay.through());
            let resume_after = self.reader.skip_gap(replay.through(), self.hub.head());
            // A loss the signal reaches (reported while the store was
            // asked, say) is told with it, once.
            let reason = if self.reader.deal_with_losses_reached(resume_after) {
                GapReason::Lost
            } else {
                replay.reason()
            };
            self.signal_gap(reason, resume_after);
            if reason == GapReason::Lost {
                // What the log evicted meanwhile is the loss's, as when a
                // loss is told by a read.
                self.continues = Some((reason, self.hub.head()));
            }
            return;
        };
        let with_meta = self.delivery.filter.is_some();
        let count = self.reader.restore(rounds, self.hub.epoch(), with_meta);
        tracing::debug!(count, through = replay.through(), "replayed from the store");
        self.first_read = self.requested.is_some();
        self.continues = Some((replay.reason(), self.hub.head()));
    }
}
