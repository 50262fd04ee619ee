//! What a [`Reader`] does with events the logs no longer hold: what to ask
//! the store for, taking in what it gave back, and moving past a gap that is
//! signalled instead.

use super::super::super::topic::Entry;
use super::super::super::{Epoch, Position};
use super::{Reader, ReplayRequest, Restored, RestoredTopic};

impl Reader {
    /// Marks as dealt with every loss a signal resuming after
    /// `resume_after` covers (every event before it is read by then), and
    /// says whether there was one: the signal is then told as a loss.
    pub(in crate::hub::subscription) fn deal_with_losses_reached(
        &mut self,
        resume_after: u64,
    ) -> bool {
        let mut found = false;
        for (subscribed, handled) in self.topics.iter().zip(self.handled.iter_mut()) {
            let state = subscribed.topic.lock();
            while let Some(loss) = state.loss_ahead(*handled) {
                if loss.after > resume_after {
                    break;
                }
                *handled = loss.through;
                found = true;
            }
        }
        found
    }

    /// What to ask the store for `topics`: each from where it was last dealt
    /// with.
    pub(in crate::hub::subscription) fn replay_requests(
        &self,
        topics: &[usize],
    ) -> Vec<ReplayRequest> {
        topics
            .iter()
            .map(|&topic| ReplayRequest {
                topic,
                name: self.topics[topic].topic.name.clone(),
                after: self.cursor.max(self.handled[topic]),
            })
            .collect()
    }

    /// Takes in a complete replay round: each topic is dealt with up to where
    /// its round went, and its events merge with the logs. Returns how many
    /// events were restored.
    pub(in crate::hub::subscription) fn restore(
        &mut self,
        rounds: Vec<RestoredTopic>,
        epoch: Epoch,
        with_meta: bool,
    ) -> usize {
        let mut restored = Vec::new();
        for round in rounds {
            self.handled[round.topic] = self.handled[round.topic].max(round.through);
            for event in round.events.unwrap_or_default() {
                let position = Position::new(epoch, event.seq);
                restored.push(Restored {
                    entry: Entry::new(position, &event.event).read(with_meta),
                    topic: round.topic,
                });
            }
        }
        let count = restored.len();
        restored.extend(self.restored.drain(..));
        restored.sort_by_key(|restored| restored.entry.seq);
        restored.dedup_by_key(|restored| restored.entry.seq);
        self.restored = restored.into();
        count
    }

    /// Marks `topics` as dealt with up to `through`: a signal tells of
    /// their gap.
    pub(in crate::hub::subscription) fn deal_with(&mut self, topics: &[(usize, u64)]) {
        for &(topic, through) in topics {
            self.handled[topic] = self.handled[topic].max(through);
        }
    }

    /// Marks every topic that has evicted events after the cursor as dealt
    /// with up to `through`: the store could not fill the gap, and a signal
    /// does.
    pub(in crate::hub::subscription) fn give_up_evicted_through(&mut self, through: u64) {
        for (index, subscribed) in self.topics.iter().enumerate() {
            let evicted = subscribed.topic.lock().evicted_through();
            if self.cursor < evicted {
                self.handled[index] = self.handled[index].max(through);
            }
        }
    }

    /// Moves the cursor past a gap, only as far as no event is skipped: to
    /// `through`, or to just before the oldest event still held in any
    /// subscribed topic (or restored), not past evicted events still to be
    /// replayed, nor past the `head`, whichever comes first. Returns the new
    /// cursor.
    pub(in crate::hub::subscription) fn skip_gap(&mut self, through: u64, head: u64) -> u64 {
        let mut next = self
            .topics
            .iter()
            .filter_map(|subscribed| {
                subscribed
                    .topic
                    .lock()
                    .first_after(self.cursor)
                    .map(|entry| entry.seq)
            })
            .chain(
                self.restored
                    .iter()
                    .map(|restored| restored.entry.seq)
                    .find(|&seq| seq > self.cursor),
            )
            .min();
        // Evicted events not dealt with (another topic's, still to be
        // replayed) may be anywhere after where their topic was dealt with:
        // not past them.
        for (subscribed, handled) in self.topics.iter().zip(&self.handled) {
            let evicted = subscribed.topic.evicted_through();
            if self.cursor < evicted && *handled < evicted {
                let first_possible = self.cursor.max(*handled).saturating_add(1);
                next = Some(next.map_or(first_possible, |next| next.min(first_possible)));
            }
        }
        // Nor past the head: an event of another topic up to `through` (a
        // loss reported before the events that follow it) may yet come.
        let resume_after = match next {
            Some(next) => through.min(next.saturating_sub(1)),
            None => through,
        }
        .min(head)
        .max(self.cursor);
        self.cursor = resume_after;
        resume_after
    }
}
