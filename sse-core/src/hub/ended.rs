//! [`EndedTopics`]: the names of topics ended for good, so that a client
//! that comes back is told to stop (`204 No Content`) rather than given a
//! new, empty topic.

use std::collections::{HashSet, VecDeque};

use crate::Text;

/// The names of the topics ended with [`Hub::end_topic`](super::Hub::end_topic),
/// the newest `capacity` of them: each costs its name, and a hub that ended
/// more than it may have topics forgets the oldest (a client of one of those
/// would then get a new topic, as before it ended).
#[derive(Debug)]
pub(crate) struct EndedTopics {
    names: HashSet<Text>,
    order: VecDeque<Text>,
    capacity: usize,
}

impl EndedTopics {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            names: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn insert(&mut self, name: Text) {
        if self.capacity == 0 || !self.names.insert(name.clone()) {
            return;
        }
        self.order.push_back(name);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.names.remove(&oldest);
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        !self.names.is_empty() && self.names.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_names_are_forgotten_past_the_capacity() {
        let mut ended = EndedTopics::new(2);
        for name in ["a", "b", "a", "c"] {
            ended.insert(Text::from(name));
        }
        assert!(!ended.contains("a"), "the oldest went");
        assert!(ended.contains("b") && ended.contains("c"));
        let mut none = EndedTopics::new(0);
        none.insert(Text::from("a"));
        assert!(!none.contains("a"));
    }
}
