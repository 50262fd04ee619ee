//! [`Wakers`]: the waiting subscribers of a topic, one slot each.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::task::Waker;

use super::slots::Slots;

/// One slot per subscriber, reused after it leaves. Registering replaces the
/// slot's waker, so a subscriber polled many times holds one waker, not many.
/// A waker stays until it is replaced or its subscriber leaves: waking does
/// not take it, so a subscriber whose waker has not changed never registers
/// again.
///
/// A subscriber is woken once per [`Wakeup`]: a publish that finds it woken
/// and not yet polled since leaves it alone. A client that stopped reading
/// leaves its stream unpolled (the server does not ask a body for more than
/// it can write), and would otherwise have its task woken, for nothing, on
/// every publish.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    slots: Slots<Slot>,
}

#[derive(Debug)]
struct Slot {
    waker: Option<Waker>,
    wakeup: Arc<Wakeup>,
}

/// Whether a subscriber has been woken and not polled since; one per
/// subscriber, shared by its slots in every topic it reads.
///
/// The protocol, with no lock (invariant 6 of `shared`): a subscriber takes
/// the wake-up ([`Wakeup::take`], a sequentially consistent swap and fence)
/// before it loads the head, `rereads` or a tail; a waker makes its change,
/// then a sequentially consistent fence, then reads the flag. So either the
/// subscriber's loads see the change, or the waker sees the flag down and
/// wakes it. The wake-up a poll takes must be owed to the waker it then
/// waits with: registering a new waker puts the flag down again (under the
/// wakers' lock), since a wake-up raised meanwhile went to the old one.
#[derive(Debug, Default)]
pub(crate) struct Wakeup {
    pending: AtomicBool,
}

impl Wakeup {
    /// Takes the wake-up, if there is one: from here on the subscriber is
    /// woken again by the next change. Called at the start of every poll.
    pub(crate) fn take(&self) {
        // Most polls follow a wake-up; one that does not skips the swap (a
        // waker that sees the flag down wakes anyway).
        if self.pending.load(Ordering::Relaxed) {
            self.pending.swap(false, Ordering::SeqCst);
            // Orders every later load, whatever its own ordering (a tail's
            // acquire loads of an event appended below the head), after
            // the swap, not only the SeqCst loads of head and rereads.
            fence(Ordering::SeqCst);
        }
    }
}

impl Wakers {
    pub(crate) fn insert(&mut self, wakeup: &Arc<Wakeup>) -> usize {
        self.slots.insert(Some(Slot {
            waker: None,
            wakeup: wakeup.clone(),
        }))
    }

    pub(crate) fn remove(&mut self, slot: usize) {
        self.slots.remove(slot);
    }

    pub(crate) fn register(&mut self, slot: usize, waker: &Waker) {
        if let Some(Some(slot)) = self.slots.get_mut(slot) {
            match &slot.waker {
                Some(current) if current.will_wake(waker) => {}
                _ => {
                    slot.waker = Some(waker.clone());
                    // A wake-up raised since the poll began went to the old
                    // waker: it is not this one's, and left up it would keep
                    // every later change from waking the new one. A change
                    // made before this (under this lock) is seen by the read
                    // that follows; one made after it wakes the new waker.
                    slot.wakeup.pending.store(false, Ordering::SeqCst);
                }
            }
        }
    }

    /// A copy of the waker of every registered subscriber not woken since
    /// it was last polled, each now marked woken, to be woken once the lock
    /// is released; the registrations stay. Call it after the change the
    /// subscribers are to see.
    pub(crate) fn to_wake(&self) -> Vec<Waker> {
        // Orders the change before the flags' loads (see `Wakeup`).
        fence(Ordering::SeqCst);
        self.slots
            .values()
            .filter_map(|slot| {
                let waker = slot.waker.as_ref()?;
                // Two wakers at once may both wake it: harmless, and no
                // locked instruction per subscriber.
                if slot.wakeup.pending.load(Ordering::Relaxed) {
                    return None;
                }
                slot.wakeup.pending.store(true, Ordering::Relaxed);
                Some(waker.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker;

    #[test]
    fn slots_are_reused_and_wakers_kept_until_their_subscriber_leaves() {
        let mut wakers = Wakers::default();
        let (wa, wb, wc) = (Arc::default(), Arc::default(), Arc::default());
        let a = wakers.insert(&wa);
        let b = wakers.insert(&wb);
        let c = wakers.insert(&wc);
        wakers.register(a, &noop_waker());
        wakers.register(a, &noop_waker());
        wakers.register(b, &noop_waker());
        assert_eq!(
            wakers.to_wake().len(),
            2,
            "one per registered subscriber, none for c"
        );
        wa.take();
        assert_eq!(wakers.to_wake().len(), 1, "waking takes no registration");
        wakers.remove(a);
        wb.take();
        assert_eq!(wakers.to_wake().len(), 1);
        assert_eq!(wakers.insert(&wa), a);
        wakers.remove(c);
    }

    #[test]
    fn a_subscriber_is_woken_once_until_it_takes_the_wakeup() {
        let mut wakers = Wakers::default();
        let wakeup = Arc::default();
        let slot = wakers.insert(&wakeup);
        wakers.register(slot, &noop_waker());
        assert_eq!(wakers.to_wake().len(), 1);
        assert_eq!(wakers.to_wake().len(), 0, "not polled since: left alone");
        assert_eq!(wakers.to_wake().len(), 0);
        wakeup.take();
        assert_eq!(wakers.to_wake().len(), 1, "polled: woken by the next");
    }
}
