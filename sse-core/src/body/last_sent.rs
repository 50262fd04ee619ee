//! [`LastSentId`]: the id of the last event a body handed to the server.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::EventId;

/// A handle that reads the id of the last event a body has handed to the
/// HTTP server, for example to store a client's position when it disconnects.
///
/// "Sent" means given to the server to write; whether the client read it is
/// only known when it reconnects with `Last-Event-ID`. The handle is updated
/// once per frame, not per event, so reading it costs the stream nothing.
///
/// ```
/// use futures_util::stream;
/// use sse_engine::{Event, LastSentId, SseBody};
///
/// let sent = LastSentId::new();
/// let events = stream::iter([Event::new().id(1u64).data("a")]);
/// let body = SseBody::from_infallible_stream(events).track_last_sent_id(sent.clone());
/// # drop(body);
/// assert_eq!(sent.get(), None); // nothing sent yet
/// ```
#[derive(Clone, Default)]
pub struct LastSentId(Arc<Mutex<Option<EventId>>>);

impl LastSentId {
    /// A handle with no id yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of the last event sent that had one.
    pub fn get(&self) -> Option<EventId> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set(&self, id: EventId) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(id);
    }
}

impl fmt::Debug for LastSentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LastSentId").field(&self.get()).finish()
    }
}
