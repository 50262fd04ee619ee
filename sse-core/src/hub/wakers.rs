//! [`Wakers`]: the waiting subscribers of a topic, one slot each.

use std::task::Waker;

use super::slots::Slots;

/// One slot per subscriber, reused after it leaves. Registering replaces the
/// slot's waker, so a subscriber polled many times holds one waker, not many.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    slots: Slots<Waker>,
}

impl Wakers {
    pub(crate) fn insert(&mut self) -> usize {
        self.slots.insert(None)
    }

    pub(crate) fn remove(&mut self, slot: usize) {
        self.slots.remove(slot);
    }

    pub(crate) fn register(&mut self, slot: usize, waker: &Waker) {
        if let Some(current) = self.slots.get_mut(slot) {
            match current {
                Some(current) if current.will_wake(waker) => {}
                _ => *current = Some(waker.clone()),
            }
        }
    }

    /// Moves every registered waker into `out`, to be woken once the lock is
    /// released.
    pub(crate) fn take_all(&mut self, out: &mut Vec<Waker>) {
        out.extend(self.slots.values_mut().filter_map(Option::take));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker;

    #[test]
    fn slots_are_reused_and_wakers_taken_once() {
        let mut wakers = Wakers::default();
        let a = wakers.insert();
        let b = wakers.insert();
        wakers.register(a, &noop_waker());
        wakers.register(a, &noop_waker());
        wakers.register(b, &noop_waker());
        let mut out = Vec::new();
        wakers.take_all(&mut out);
        assert_eq!(out.len(), 2);
        out.clear();
        wakers.take_all(&mut out);
        assert!(out.is_empty());
        wakers.remove(a);
        assert_eq!(wakers.insert(), a);
    }
}
