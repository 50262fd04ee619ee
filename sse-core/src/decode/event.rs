//! [`DecodedEvent`]: one event as a client sees it.

use std::time::Duration;

use crate::{Event, EventId, Text};

/// An event dispatched by the [`Decoder`](super::Decoder): what a browser's
/// `EventSource` would hand to its listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEvent {
    pub(super) event_type: Option<String>,
    pub(super) data: String,
    pub(super) last_event_id: Text,
    pub(super) id_seen: bool,
    pub(super) retry: Option<Duration>,
}

impl DecodedEvent {
    /// The event type; `message` when the event had no `event` field.
    pub fn event_type(&self) -> &str {
        self.event_type.as_deref().unwrap_or("message")
    }

    /// The data lines, joined with LF.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The data lines, joined with LF.
    pub fn into_data(self) -> String {
        self.data
    }

    /// The stream's last event id when the event was dispatched: set by this
    /// event's `id` field or by an earlier one (ids are sticky), empty if none.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection delay from a `retry` field since the previous event,
    /// if there was one.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }
}

/// The same event, to send on: what the decoder read can always be written
/// (its type and id are single lines without NUL). The id is written once the
/// stream has set one, the event type only when it is not `message`.
///
/// ```
/// use sse_engine::Event;
/// use sse_engine::decode::Decoder;
///
/// let mut decoder = Decoder::new();
/// decoder.push(b"event: delta\nid: 9\ndata: a\ndata: b\n\n").unwrap();
/// let upstream = decoder.next_event().unwrap();
/// assert_eq!(
///     Event::from(upstream).encode().as_bytes(),
///     "event: delta\nid: 9\ndata: a\ndata: b\n\n"
/// );
/// ```
impl From<DecodedEvent> for Event {
    fn from(decoded: DecodedEvent) -> Self {
        let mut event = Event::new();
        if let Some(event_type) = decoded.event_type.filter(|name| name != "message") {
            event = event
                .try_event(event_type)
                .unwrap_or_else(|_| unreachable!("decoded lines hold no line break"));
        }
        if decoded.id_seen {
            let id = EventId::new(decoded.last_event_id)
                .unwrap_or_else(|_| unreachable!("the decoder ignores ids with NUL"));
            event = event.id(id);
        }
        if let Some(retry) = decoded.retry {
            event = event.retry(retry);
        }
        event.data(Text::from(decoded.data))
    }
}
