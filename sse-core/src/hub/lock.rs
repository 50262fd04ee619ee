//! [`lock`]: a mutex taken whatever a panicking holder left.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, even when poisoned: nothing under the hub's locks leaves
/// its state half-changed when it panics, and one panic must not take every
/// later publisher and subscriber down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
