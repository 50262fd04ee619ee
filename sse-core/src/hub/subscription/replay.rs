//! [`Replay`]: fetching from the store the events a subscriber missed that the
//! in-memory logs no longer hold, in bounded rounds, retried while the store
//! is briefly away.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

use super::super::{GapReason, Store, StoreError};
use super::reader::{ReplayRequest, RestoredTopic};

/// How many times a failing replay is tried before the client is told of a
/// gap: a store that is briefly away (a Redis restart) loses the client
/// nothing; one that stays away does not hold it back for ever.
const REPLAY_ATTEMPTS: u32 = 4;

/// The pause before trying a failed replay again: 100 ms, then 400 ms,
/// then 1.6 s.
fn replay_pause(attempt: u32) -> Duration {
    Duration::from_millis(100 * 4u64.pow(attempt.saturating_sub(1).min(4)))
}

type Fetch = Pin<Box<dyn Future<Output = Result<Vec<RestoredTopic>, StoreError>> + Send>>;

/// One replay round under way: asked of the store, or pausing before it is
/// asked again.
pub(super) struct Replay {
    store: Arc<dyn Store>,
    requests: Vec<ReplayRequest>,
    /// Events up to here are asked for.
    through: u64,
    /// At most this many events per topic in one round.
    limit: usize,
    /// Why the events are missing: the gap signalled if they cannot be had.
    reason: GapReason,
    attempt: u32,
    step: Step,
}

enum Step {
    Fetching(Fetch),
    Pausing(Pin<Box<Sleep>>),
}

impl Replay {
    /// Asks the store for the events of each request up to `through`, at
    /// most `limit` per topic, so that memory stays bounded however old the
    /// cursor.
    pub(super) fn start(
        store: Arc<dyn Store>,
        requests: Vec<ReplayRequest>,
        through: u64,
        limit: usize,
        reason: GapReason,
    ) -> Self {
        let step = Step::Fetching(fetch(store.clone(), requests.clone(), through, limit));
        Self {
            store,
            requests,
            through,
            limit,
            reason,
            attempt: 1,
            step,
        }
    }

    pub(super) fn reason(&self) -> GapReason {
        self.reason
    }

    pub(super) fn through(&self) -> u64 {
        self.through
    }

    /// The round's events per topic, `None` when the store could not give
    /// them all (it no longer has them, or failed every attempt).
    pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<RestoredTopic>>> {
        loop {
            match &mut self.step {
                Step::Pausing(pause) => {
                    if pause.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.attempt += 1;
                    self.step = Step::Fetching(fetch(
                        self.store.clone(),
                        self.requests.clone(),
                        self.through,
                        self.limit,
                    ));
                }
                Step::Fetching(fetching) => {
                    let outcome = match fetching.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(outcome) => outcome,
                    };
                    return match outcome {
                        Ok(rounds) => {
                            let complete = !rounds.is_empty()
                                && rounds.iter().all(|round| round.events.is_some());
                            Poll::Ready(complete.then_some(rounds))
                        }
                        Err(error) if self.attempt < REPLAY_ATTEMPTS => {
                            let pause = replay_pause(self.attempt);
                            tracing::warn!(%error, attempt = self.attempt, ?pause, "replay from the store failed; trying again");
                            self.step = Step::Pausing(Box::pin(tokio::time::sleep(pause)));
                            continue;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "replay from the store failed again; signalling a gap");
                            Poll::Ready(None)
                        }
                    };
                }
            }
        }
    }
}

/// One round: every topic's share, then cut, for every topic, where the
/// first topic to fill its share ended, so that the events restored are
/// complete up to there across topics.
fn fetch(store: Arc<dyn Store>, requests: Vec<ReplayRequest>, through: u64, limit: usize) -> Fetch {
    Box::pin(async move {
        let mut answers = Vec::with_capacity(requests.len());
        let mut round_end = through;
        for request in requests {
            let after = request.after;
            if after >= through {
                // Dealt with already past this round's end (another topic's
                // loss capped it): nothing to ask.
                answers.push((request.topic, Some(Vec::new())));
                continue;
            }
            let round = store
                .replay_round(&request.name, after, through.saturating_add(1), limit)
                .await?;
            // Events outside the range break the round's promise (every
            // event of the range up to its end is among them): kept out,
            // they would leave the round looking complete without the
            // range's events, and the subscriber would pass over them in
            // silence. Asked again, and told as a gap if it goes on.
            let outside = round.as_ref().and_then(|round| {
                round
                    .events
                    .iter()
                    .find(|event| event.seq <= after || event.seq > through)
            });
            if let Some(event) = outside {
                return Err(StoreError::new(format!(
                    "the store's replay of {:?} after {after} through {through} gave event {}, outside the range",
                    request.name, event.seq
                )));
            }
            let events = round.map(|round| {
                // All within the range (checked above).
                let mut events = round.events;
                events.truncate(limit);
                if let Some(last) = events.last() {
                    // Short of what was asked: complete only as far as the
                    // store says (never short of the events it gave).
                    let complete = if events.len() == limit {
                        last.seq
                    } else {
                        round.complete_through.max(last.seq)
                    };
                    round_end = round_end.min(complete);
                }
                events
            });
            answers.push((request.topic, events));
        }
        Ok(answers
            .into_iter()
            .map(|(topic, events)| RestoredTopic {
                topic,
                through: round_end,
                events: events.map(|mut events| {
                    events.retain(|event| event.seq <= round_end);
                    events
                }),
            })
            .collect())
    })
}
