//! [`Ahead`]: for a hub on a shared store, a client's cursor newer than what
//! this process's feed has reported yet (another process gave it a moment
//! ago). Reading waits for the feed to catch up; a cursor still ahead after
//! a while is checked with the store, and one the store never gave is
//! unknown.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use super::super::{Store, StoreError};

/// How long a cursor ahead of a shared store's feed may wait for it.
const AHEAD_WAIT: Duration = Duration::from_secs(2);

/// How a cursor ahead of the feed is being checked.
pub(super) enum Ahead {
    /// Waiting for the feed to catch up, until then.
    Waiting(Instant, Option<Pin<Box<Sleep>>>),
    /// Asking the store whether it gave that id.
    Checking(Pin<Box<dyn Future<Output = Result<u64, StoreError>> + Send>>),
}

/// What a check of a cursor ahead of the feed found.
pub(super) enum AheadCheck {
    /// The feed has reached it: read on.
    CaughtUp,
    /// Still waiting (the reading waits too: nothing is readable past the
    /// head, and its waker is registered).
    Wait,
    /// The store never gave it; reading starts after `head`, where the feed
    /// was.
    Unknown { head: u64 },
}

impl Ahead {
    pub(super) fn new() -> Self {
        Self::Waiting(Instant::now() + AHEAD_WAIT, None)
    }

    /// Checks `cursor` against the feed's `head` (read again on each call),
    /// asking `store` once the wait is over.
    pub(super) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        cursor: u64,
        head: impl Fn() -> u64,
        store: &Arc<dyn Store>,
    ) -> AheadCheck {
        loop {
            let head = head();
            if head >= cursor {
                return AheadCheck::CaughtUp;
            }
            match self {
                Self::Waiting(until, sleep) => {
                    let sleep =
                        sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(*until)));
                    if sleep.as_mut().poll(cx).is_pending() {
                        return AheadCheck::Wait;
                    }
                    // The feed is slow (reconnecting, perhaps): ask the store.
                    let store = store.clone();
                    *self = Self::Checking(Box::pin(async move { store.head_now().await }));
                }
                Self::Checking(check) => {
                    let Poll::Ready(answer) = check.as_mut().poll(cx) else {
                        return AheadCheck::Wait;
                    };
                    match answer {
                        Ok(store_head) if cursor > store_head => {
                            return AheadCheck::Unknown { head };
                        }
                        answer => {
                            if let Err(error) = answer {
                                tracing::warn!(%error, "cannot ask the store about a cursor; waiting");
                            }
                            *self = Self::new();
                        }
                    }
                }
            }
        }
    }
}
