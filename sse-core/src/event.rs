//! [`Event`]: the builder for one server-sent event, and its encoding.

use std::time::Duration;

use bytes::Bytes;

use crate::encode::{
    EVENT, FrameBuf, ID, multiline_copy_len, multiline_wire_len, put_comment_lines, put_data_lines,
    put_field,
};
use crate::field::FieldName;
use crate::id::IntoEventId;
use crate::text::IntoText;
use crate::wire::decimal_len;
use crate::{EncodedEvent, EventId, InvalidField, Text};

/// One server-sent event, built field by field and checked while it is built.
///
/// Bad input is caught here, never while the body is streaming: the `event`
/// name and the `id` must be single-line, which [`Event::try_event`] and
/// [`Event::try_id`] check and report as an [`InvalidField`]. Data and
/// comments may hold any text; every line break in them (LF, CR or CRLF)
/// starts a new `data:` (or `:`) line on the wire.
///
/// The fields take what axum's `Event` takes: any string, borrowed or
/// owned ([`IntoText`]), and for the id also numbers and [`EventId`]s
/// ([`IntoEventId`]). A borrowed string is copied (short ones into the
/// event itself, with no allocation); a `String` is taken over; a [`Text`]
/// is shared.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::Event;
///
/// let event = Event::new()
///     .event("delta")
///     .id(7u64)
///     .retry(Duration::from_secs(3))
///     .data("first line\nsecond line");
/// assert_eq!(
///     event.encode().as_bytes(),
///     "event: delta\nid: 7\nretry: 3000\ndata: first line\ndata: second line\n\n"
/// );
///
/// // A value from a request is checked, not trusted:
/// let from_request = String::from("update\ndata: forged");
/// assert!(Event::new().try_event(from_request).is_err());
///
/// // Borrowed text, and ids as text, the way axum's `Event` takes them:
/// fn token(kind: &str, json: &str, n: u64) -> Event {
///     Event::new().event(kind).data(json).id(n.to_string())
/// }
/// assert_eq!(
///     token("delta", "{}", 42).encode().as_bytes(),
///     "event: delta\nid: 42\ndata: {}\n\n"
/// );
/// ```
///
/// An event without data is not an event for clients, and is written so
/// that none of them reports one (see [the framing rules](crate#framing)):
/// its comments and `retry` go out as lines with no blank line after them,
/// and its `event` name, which would have no effect, is left out. An id
/// without data is the one exception: it is written with its blank line, so
/// that conformant clients move their `Last-Event-ID` to it, and lax clients
/// report an empty event for it. `data("")` is an event with empty data.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::Event;
///
/// let opening = Event::new().retry(Duration::from_secs(2)).comment("hello");
/// assert_eq!(opening.encode().as_bytes(), ": hello\nretry: 2000\n");
/// ```
#[must_use]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    event: Option<Text>,
    id: Option<EventId>,
    data: Option<Text>,
    // Fields most events never have, kept out of line: an event is moved
    // through every stream adapter, and a smaller one moves faster.
    rare: Option<Box<RareFields>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RareFields {
    comments: Vec<Text>,
    retry: Option<Duration>,
}

impl Event {
    /// An event with no fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the data, replacing any set before. Any text is allowed: line breaks
    /// become separate `data:` lines, and clients join them back with LF.
    #[inline]
    pub fn data(mut self, data: impl IntoText) -> Self {
        data.store_in(&mut self.data);
        self
    }

    /// Sets the data to `value` serialized as JSON.
    ///
    /// ```
    /// # fn main() -> Result<(), serde_json::Error> {
    /// use sse_engine::Event;
    ///
    /// let event = Event::new().json_data(&serde_json::json!({"token": "hi"}))?;
    /// assert_eq!(event.encode().as_bytes(), "data: {\"token\":\"hi\"}\n\n");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// When serde_json cannot serialize the value.
    #[cfg(feature = "json")]
    pub fn json_data<T>(self, value: &T) -> Result<Self, serde_json::Error>
    where
        T: serde::Serialize + ?Sized,
    {
        let json = serde_json::to_string(value)?;
        Ok(self.data(json))
    }

    /// Sets the event type, which clients dispatch on (`addEventListener(name)`).
    ///
    /// # Panics
    ///
    /// When `name` contains a CR or LF. For names that come from outside the
    /// program, use [`Event::try_event`].
    #[track_caller]
    #[inline]
    pub fn event(mut self, name: impl IntoText) -> Self {
        if let Err(error) = name.store_line_in(&mut self.event, FieldName::Event) {
            panic!("{error}");
        }
        self
    }

    /// Sets the event type, or reports why the name cannot be one.
    ///
    /// # Errors
    ///
    /// When `name` contains a CR or LF.
    #[inline]
    pub fn try_event(mut self, name: impl IntoText) -> Result<Self, InvalidField> {
        name.store_line_in(&mut self.event, FieldName::Event)?;
        Ok(self)
    }

    /// Sets the id: a number, an [`EventId`], or text (see [`IntoEventId`]).
    ///
    /// # Panics
    ///
    /// When the id is text that contains a CR, LF or NUL. For ids that come
    /// from outside the program, use [`Event::try_id`].
    #[track_caller]
    #[inline]
    pub fn id(mut self, id: impl IntoEventId) -> Self {
        if let Err(error) = id.store_in(&mut self.id) {
            panic!("{error}");
        }
        self
    }

    /// Sets the id, or reports why the text cannot be an id. Takes what
    /// [`Event::id`] takes; numbers and [`EventId`]s never fail.
    ///
    /// # Errors
    ///
    /// When `id` is text that contains a CR, LF or NUL.
    #[inline]
    pub fn try_id(mut self, id: impl IntoEventId) -> Result<Self, InvalidField> {
        id.store_in(&mut self.id)?;
        Ok(self)
    }

    /// Tells the client how long to wait before reconnecting, written in whole
    /// milliseconds.
    pub fn retry(mut self, delay: Duration) -> Self {
        self.rare.get_or_insert_default().retry = Some(delay);
        self
    }

    /// Adds a comment, which clients ignore; every line of it becomes a `:` line.
    pub fn comment(mut self, comment: impl IntoText) -> Self {
        self.rare
            .get_or_insert_default()
            .comments
            .push(Text::new(comment));
        self
    }

    /// Removes the id (the hub gives its own).
    pub(crate) fn clear_id(&mut self) {
        self.id = None;
    }

    /// The id, if one was set.
    pub fn get_id(&self) -> Option<&EventId> {
        self.id.as_ref()
    }

    /// The data, if it was set.
    pub fn get_data(&self) -> Option<&Text> {
        self.data.as_ref()
    }

    /// The event type, if it was set.
    pub fn get_event(&self) -> Option<&Text> {
        self.event.as_ref()
    }

    /// Encodes the event once into shared bytes, to send the same event to many
    /// clients without encoding it again for each.
    pub fn encode(self) -> EncodedEvent {
        let id = self.id.clone();
        // Kept (a replay log holds it): sized for every line, so that the
        // buffer neither grows while written nor holds more than it needs.
        let mut out = FrameBuf::for_keeping(self.wire_len(id.as_ref()));
        self.encode_into(None, &mut out);
        EncodedEvent::from_parts(out.take_all(), id)
    }

    /// Whether clients dispatch this event: only one with data is an event
    /// to them. Only such an event takes a fallback id.
    pub(crate) fn dispatches(&self) -> bool {
        self.data.is_some()
    }

    /// Appends the wire form. `fallback_id` is written when the event has no
    /// id and has data.
    pub(crate) fn encode_into(self, fallback_id: Option<&EventId>, out: &mut FrameBuf) {
        let id = match &self.id {
            Some(id) => Some(id),
            None if self.dispatches() => fallback_id,
            None => None,
        };
        // A blank line ends only a block that a conformant client acts on at
        // its end: one with data, or an id to record. Anything else would be
        // an empty event to the lax clients (see the crate's framing rules).
        let ends_block = self.dispatches() || id.is_some();
        // Room is made only when little is left: while a frame fills, its
        // buffer has room for many events, and sizing each one first would
        // cost more than copying it. An event larger than the room left
        // still fits: the buffer grows as it is written.
        if out.spare_capacity() < ROOM_WITHOUT_SIZING {
            out.reserve(self.copy_len(id));
        }
        let (comments, retry) = match self.rare.as_deref() {
            Some(rare) => (&rare.comments[..], rare.retry),
            None => (&[][..], None),
        };
        for comment in comments {
            put_comment_lines(out, comment);
        }
        if let Some(event) = self.event.as_ref().filter(|_| ends_block) {
            put_field(out, &EVENT, event.as_bytes());
        }
        if let Some(id) = id {
            put_id_line(out, id);
        }
        if let Some(retry) = retry {
            out.put(b"retry: ");
            out.put_decimal(millis(retry));
            out.put(b"\n");
        }
        if let Some(data) = &self.data {
            put_data_lines(out, data);
        }
        if ends_block {
            out.put(b"\n");
        }
    }

    /// Bytes `encode_into` copies into the frame buffer when data and
    /// comments are one line each, or a little more.
    fn copy_len(&self, id: Option<&EventId>) -> usize {
        self.len_with(id.map_or(0, |id| id.wire_len() + 5), multiline_copy_len)
    }

    /// Bytes of the whole wire form, or a few more (one per empty line):
    /// for an event encoded once and kept.
    fn wire_len(&self, id: Option<&EventId>) -> usize {
        self.len_with(id.map_or(0, |id| id.wire_len() + 5), multiline_wire_len)
    }

    /// Bytes of an event whose id line takes `id` bytes, with `multiline`
    /// for the bytes of data and comments.
    fn len_with(&self, id: usize, multiline: fn(&Text) -> usize) -> usize {
        let (comments, retry) = match self.rare.as_deref() {
            Some(rare) => (&rare.comments[..], rare.retry),
            None => (&[][..], None),
        };
        let comments: usize = comments.iter().map(multiline).sum();
        let event = self.event.as_ref().map_or(0, |event| event.len() + 8);
        let retry = retry.map_or(0, |retry| decimal_len(millis(retry)) + 8);
        let data = self.data.as_ref().map_or(0, multiline);
        comments + event + id + retry + data + 1
    }
}

/// Room in the frame buffer above which an event is written without being
/// sized first: more than most events take (an event copies at most
/// [`ZERO_COPY_MIN`](crate::encode::ZERO_COPY_MIN) bytes of each long line).
const ROOM_WITHOUT_SIZING: usize = 8 * 1024;

fn put_id_line(out: &mut FrameBuf, id: &EventId) {
    if id.is_empty() {
        out.put(ID.empty_line());
    } else {
        out.put(ID.prefix());
        out.put_id(id);
        out.put(b"\n");
    }
}

fn millis(delay: Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

/// Writes an already encoded event, with `fallback_id` when it has data and
/// no id of its own. The id line goes first: field order within an event is free.
#[inline]
pub(crate) fn encode_encoded(
    event: EncodedEvent,
    fallback_id: Option<&EventId>,
    out: &mut FrameBuf,
) {
    let dispatches = event.dispatches();
    let (bytes, id): (Bytes, _) = event.into_parts();
    if id.is_none() && dispatches {
        if let Some(id) = fallback_id {
            out.reserve(id.max_wire_len() + 5);
            put_id_line(out, id);
        }
    }
    out.put_shared(bytes);
}

#[cfg(test)]
mod tests;
