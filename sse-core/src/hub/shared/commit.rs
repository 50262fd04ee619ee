//! [`Commit`]: the one way events enter the logs (see the
//! [module docs](super), "Operations").

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use super::Shared;
use crate::hub::lock::lock;
use crate::hub::topic::{Entry, Topic};

impl Shared {
    /// Starts committing events to the logs; see [`Commit`].
    pub(crate) fn commit(&self) -> Commit<'_> {
        Commit {
            shared: self,
            last_seq: lock(&self.last_seq),
            appended: Vec::new(),
        }
    }
}

/// Events being committed to the logs, under `last_seq` (see the
/// [module docs](super)): appended with [`Commit::append_to_all`] or
/// [`Commit::append_fed`], made readable with [`Commit::publish_through`].
#[must_use = "appended events are readable only once published through"]
pub(crate) struct Commit<'a> {
    shared: &'a Shared,
    last_seq: MutexGuard<'a, u64>,
    /// The topics to wake once readable, each once.
    appended: Vec<Arc<Topic>>,
}

impl Commit<'_> {
    /// The highest sequence number committed so far.
    pub(crate) fn last_seq(&self) -> u64 {
        *self.last_seq
    }

    /// Appends one locally published event to each of `topics`, or to none
    /// when the hub or one of them was closed (while the store was
    /// appending, say): then no subscriber could read it, and the publish
    /// fails. Returns whether it was appended.
    pub(crate) fn append_to_all(&mut self, topics: &[Arc<Topic>], entry: &Entry) -> bool {
        let mut states: Vec<_> = topics.iter().map(|topic| topic.lock()).collect();
        if self.shared.is_closed() || states.iter().any(|state| state.is_closed()) {
            return false;
        }
        for state in &mut states {
            state.append(entry.clone(), self.shared.limits());
        }
        drop(states);
        self.appended.extend(topics.iter().cloned());
        true
    }

    /// Appends an event a shared store's feed reported to the log of
    /// `topic`, unless that log already holds it or the topic is closed.
    pub(crate) fn append_fed(&mut self, topic: &Arc<Topic>, entry: Entry) {
        let mut state = topic.lock();
        // Per topic, not against the hub's head: a topic followed a moment
        // ago catches up with events the others have passed.
        let is_new = state.newest_seq().is_none_or(|newest| entry.seq > newest);
        if is_new && !state.is_closed() {
            state.append(entry, self.shared.limits());
            drop(state);
            if !self.appended.iter().any(|seen| Arc::ptr_eq(seen, topic)) {
                self.appended.push(topic.clone());
            }
        }
    }

    /// Lets readers read up to `through` (when it is past the head) and
    /// releases `last_seq`. The subscribers of the topics appended to are
    /// woken with [`Wakeups::wake`], once every other lock (`publish_order`
    /// too) is released.
    pub(crate) fn publish_through(mut self, through: u64) -> Wakeups {
        if through > *self.last_seq {
            *self.last_seq = through;
            self.shared.head.store(through, Ordering::Release);
        }
        Wakeups {
            topics: std::mem::take(&mut self.appended),
        }
    }
}

impl Drop for Commit<'_> {
    fn drop(&mut self) {
        // Appended and never made readable: readers would wait on it for
        // ever (and spin, seeing it above the head).
        debug_assert!(
            self.appended.is_empty(),
            "a commit appended events without publishing them"
        );
    }
}

/// The topics a commit appended to, whose subscribers are still to be woken.
#[must_use = "subscribers wait until they are woken"]
pub(crate) struct Wakeups {
    topics: Vec<Arc<Topic>>,
}

impl Wakeups {
    /// Wakes every subscriber of the topics; returns how many.
    pub(crate) fn wake(self) -> usize {
        self.topics.iter().map(|topic| topic.wake_all()).sum()
    }
}
