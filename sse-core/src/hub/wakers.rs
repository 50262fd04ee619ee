//! [`Wakers`]: the waiting subscribers of a topic, one slot each.

use std::task::Waker;

use super::slots::Slots;

/// One slot per subscriber, reused after it leaves. Registering replaces the
/// slot's waker, so a subscriber polled many times holds one waker, not many.
/// A waker stays until it is replaced or its subscriber leaves: waking does
/// not take it, so a subscriber whose waker has not changed never registers
/// again.
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

    /// A copy of every registered waker, to be woken once the lock is
    /// released; the registrations stay.
    pub(crate) fn registered(&self) -> Vec<Waker> {
        self.slots.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker;

    #[test]
    fn slots_are_reused_and_wakers_kept_until_their_subscriber_leaves() {
        let mut wakers = Wakers::default();
        let a = wakers.insert();
        let b = wakers.insert();
        let c = wakers.insert();
        wakers.register(a, &noop_waker());
        wakers.register(a, &noop_waker());
        wakers.register(b, &noop_waker());
        assert_eq!(
            wakers.registered().len(),
            2,
            "one per registered subscriber, none for c"
        );
        assert_eq!(wakers.registered().len(), 2, "waking takes none");
        wakers.remove(a);
        assert_eq!(wakers.registered().len(), 1);
        assert_eq!(wakers.insert(), a);
        wakers.remove(c);
    }
}
