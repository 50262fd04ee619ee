//! [`WakerIdentity`]: which waker a poll came with, kept as numbers.

use std::task::Waker;

/// A waker's identity, as [`Waker::will_wake`] compares it: its data pointer
/// and vtable, kept as numbers, not pointers.
///
/// Whoever keeps one compares it only with the identity of a waker that is
/// still held somewhere it registered (a topic's waker list, a timer), so
/// that waker is alive and its address cannot have been reused by another:
/// equal identities then mean that polling again would only register the
/// same waker again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WakerIdentity {
    data: usize,
    vtable: usize,
}

impl WakerIdentity {
    pub(crate) fn of(waker: &Waker) -> Self {
        Self {
            data: waker.data() as usize,
            vtable: std::ptr::from_ref(waker.vtable()) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    struct Flag;

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_clone_is_the_same_waker_and_another_is_not() {
        let one = Waker::from(Arc::new(Flag));
        let other = Waker::from(Arc::new(Flag));
        assert_eq!(WakerIdentity::of(&one), WakerIdentity::of(&one.clone()));
        assert_ne!(WakerIdentity::of(&one), WakerIdentity::of(&other));
    }
}
