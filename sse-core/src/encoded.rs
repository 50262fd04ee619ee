//! [`EncodedEvent`]: an event encoded once, to be sent many times.

use bytes::Bytes;

use crate::EventId;

/// An event already in its wire form, shared by reference count.
///
/// Made by [`Event::encode`](crate::Event::encode). Cloning it, or sending it
/// to ten thousand clients, never encodes or copies the event again.
///
/// ```
/// use sse_engine::Event;
///
/// let encoded = Event::new().id(1u64).data("tick").encode();
/// let for_another_client = encoded.clone();
/// assert_eq!(for_another_client.as_bytes(), "id: 1\ndata: tick\n\n");
/// assert_eq!(encoded.id().map(ToString::to_string).as_deref(), Some("1"));
/// ```
#[derive(Debug, Clone)]
pub struct EncodedEvent {
    bytes: Bytes,
    id: Option<EventId>,
    /// Set by a stream that knew, when it yielded this event, that it had
    /// nothing more ready: a body then hands its frame out without asking
    /// the stream again (it asks on its next poll). Not part of the event.
    last_ready: bool,
}

impl PartialEq for EncodedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.id == other.id
    }
}

impl Eq for EncodedEvent {}

impl EncodedEvent {
    pub(crate) fn from_parts(bytes: Bytes, id: Option<EventId>) -> Self {
        Self {
            bytes,
            id,
            last_ready: false,
        }
    }

    /// Marks it as the last event its stream had ready (see `last_ready`).
    pub(crate) fn set_last_ready(&mut self) {
        self.last_ready = true;
    }

    pub(crate) fn is_last_ready(&self) -> bool {
        self.last_ready
    }

    pub(crate) fn into_parts(self) -> (Bytes, Option<EventId>) {
        (self.bytes, self.id)
    }

    /// Whether clients dispatch it: only an event with data ends with a
    /// blank line and has no id (an id without data has its blank line too,
    /// but never takes another id).
    pub(crate) fn dispatches(&self) -> bool {
        self.bytes.ends_with(b"\n\n")
    }

    /// The wire form: an event with data (or an id) ends with the blank line
    /// that ends it; one without is only comment and `retry` lines (see
    /// [the framing rules](crate#framing)).
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The wire form.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The event's id, if it has one.
    pub fn id(&self) -> Option<&EventId> {
        self.id.as_ref()
    }

    /// Length of the wire form in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for an event that writes nothing: no data, no id, no comment and
    /// no `retry` (an `event` name alone is left out, see
    /// [the framing rules](crate#framing)).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
