//! [`EventId`], and what [`Event::id`](crate::Event::id) accepts:
//! [`IntoEventId`].

use std::fmt;

use bytes::BytesMut;

use crate::Text;
use crate::field::{FieldName, InvalidField, InvalidFieldKind, check_single_line};
use crate::text::IntoText;
use crate::wire::{
    POSITION_MAX_LEN, PositionText, decimal_len, find_line_break_or_nul, position_len, push_decimal,
};

/// The `id` of an event: one line, without CR, LF or NUL.
///
/// Numbers convert without allocating and are written in decimal; text is
/// checked by [`EventId::new`], so an id taken from a request or an upstream
/// service can never add fields to an event. Text of up to 23 bytes (a
/// number's digits, a short key) is held inside the id, with no
/// allocation; longer text is held in shared bytes.
///
/// ```
/// use sse_engine::EventId;
///
/// let numeric = EventId::from(42u64);
/// let text = EventId::new("order-17").unwrap();
/// assert_eq!(numeric.to_string(), "42");
/// assert_eq!(text.to_string(), "order-17");
/// assert!(EventId::new("1\ndata: injected").is_err());
/// ```
///
/// Two ids are equal when they were made the same way from equal values: a
/// number and its digits as text are written alike, but are different ids.
///
/// ```
/// use sse_engine::EventId;
///
/// assert_eq!(EventId::from(42u8), EventId::from(42u64));
/// assert_eq!(EventId::new("42").unwrap(), EventId::new(42.to_string()).unwrap());
/// assert_ne!(EventId::new("42").unwrap(), EventId::from(42u64));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventId(IdRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum IdRepr {
    Number(u64),
    /// Only below zero: zero and up are `Number`, so that equal ids compare equal.
    Negative(i64),
    Text(Text),
    /// A hub's `<epoch>-<seq>`: written when encoded, so that handing the id
    /// of a published event to each of many subscribers costs no allocation
    /// and no reference count.
    Position {
        epoch: u64,
        seq: u64,
    },
}

impl EventId {
    /// Checks a textual id. An empty id is allowed: on the wire it resets the
    /// client's last event id.
    ///
    /// Any string an event field takes is accepted (see [`IntoText`]); a
    /// borrowed one is copied.
    ///
    /// # Errors
    ///
    /// When the text contains CR, LF or NUL.
    pub fn new(id: impl IntoText) -> Result<Self, InvalidField> {
        let id = Text::new(id);
        check_text(id.as_bytes())?;
        Ok(Self(IdRepr::Text(id)))
    }

    /// The numeric value, when the id was made from a number.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            IdRepr::Number(number) => Some(*number),
            IdRepr::Negative(_) | IdRepr::Text(_) | IdRepr::Position { .. } => None,
        }
    }

    /// The id of a hub event: `epoch` in 12 hex digits, a dash, `seq`.
    pub(crate) const fn position(epoch: u64, seq: u64) -> Self {
        Self(IdRepr::Position { epoch, seq })
    }

    /// Appends the id's wire form (no field name) to `out`.
    pub(crate) fn write_to(&self, out: &mut BytesMut) {
        match &self.0 {
            IdRepr::Number(number) => push_decimal(out, *number),
            IdRepr::Negative(number) => {
                out.extend_from_slice(b"-");
                push_decimal(out, number.unsigned_abs());
            }
            IdRepr::Text(text) => out.extend_from_slice(text.as_bytes()),
            IdRepr::Position { epoch, seq } => {
                out.extend_from_slice(PositionText::new(*epoch, *seq).as_bytes());
            }
        }
    }

    /// Whether the wire form is empty (an id that resets the client's).
    pub(crate) fn is_empty(&self) -> bool {
        matches!(&self.0, IdRepr::Text(text) if text.is_empty())
    }

    /// An upper bound of the wire form's length that needs no arithmetic.
    pub(crate) fn max_wire_len(&self) -> usize {
        match &self.0 {
            IdRepr::Number(_) | IdRepr::Negative(_) => 20,
            IdRepr::Text(text) => text.len(),
            IdRepr::Position { .. } => POSITION_MAX_LEN,
        }
    }

    /// Length of the wire form, in bytes.
    pub(crate) fn wire_len(&self) -> usize {
        match &self.0 {
            IdRepr::Number(number) => decimal_len(*number),
            IdRepr::Negative(number) => 1 + decimal_len(number.unsigned_abs()),
            IdRepr::Text(text) => text.len(),
            IdRepr::Position { seq, .. } => position_len(*seq),
        }
    }
}

/// Checks the text of an id: no CR, LF or NUL (a line break is reported
/// before a NUL, wherever each is).
#[inline]
fn check_text(id: &[u8]) -> Result<(), InvalidField> {
    if find_line_break_or_nul(id).is_none() {
        return Ok(());
    }
    check_single_line(FieldName::Id, id)?;
    Err(InvalidField::new(FieldName::Id, InvalidFieldKind::Nul))
}

impl From<u64> for EventId {
    fn from(number: u64) -> Self {
        Self(IdRepr::Number(number))
    }
}

macro_rules! id_from_unsigned {
    ($($ty:ty),*) => {$(
        impl From<$ty> for EventId {
            fn from(number: $ty) -> Self {
                Self(IdRepr::Number(number as u64))
            }
        }
    )*};
}

macro_rules! id_from_signed {
    ($($ty:ty),*) => {$(
        impl From<$ty> for EventId {
            fn from(number: $ty) -> Self {
                let number = number as i64;
                match u64::try_from(number) {
                    Ok(unsigned) => Self(IdRepr::Number(unsigned)),
                    Err(_) => Self(IdRepr::Negative(number)),
                }
            }
        }
    )*};
}

// Every integer a counter is usually kept in; `as` only widens here.
id_from_unsigned!(u8, u16, u32, usize);
id_from_signed!(i8, i16, i32, i64, isize);

impl TryFrom<String> for EventId {
    type Error = InvalidField;

    fn try_from(id: String) -> Result<Self, InvalidField> {
        Self::new(id)
    }
}

impl TryFrom<&str> for EventId {
    type Error = InvalidField;

    fn try_from(id: &str) -> Result<Self, InvalidField> {
        Self::new(id)
    }
}

impl TryFrom<Text> for EventId {
    type Error = InvalidField;

    fn try_from(id: Text) -> Result<Self, InvalidField> {
        Self::new(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Number(number) => fmt::Display::fmt(number, f),
            IdRepr::Negative(number) => fmt::Display::fmt(number, f),
            IdRepr::Text(text) => f.write_str(text),
            IdRepr::Position { epoch, seq } => {
                f.write_str(PositionText::new(*epoch, *seq).as_str())
            }
        }
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Number(number) => f.debug_tuple("EventId").field(number).finish(),
            IdRepr::Negative(number) => f.debug_tuple("EventId").field(number).finish(),
            IdRepr::Text(text) => f.debug_tuple("EventId").field(text).finish(),
            IdRepr::Position { epoch, seq } => f
                .debug_tuple("EventId")
                .field(&PositionText::new(*epoch, *seq).as_str())
                .finish(),
        }
    }
}

/// What [`Event::id`](crate::Event::id) and
/// [`Event::try_id`](crate::Event::try_id) accept: an [`EventId`] (or a
/// reference to one), any integer type, and any string an event field
/// takes ([`IntoText`]: `&str`, `String`, `&String`, [`Text`], ...).
///
/// Numbers and `EventId`s are ids as they are. Text is checked as
/// [`EventId::new`] checks it: `Event::id` panics on a CR, LF or NUL in it,
/// `Event::try_id` returns the error. Text of up to 23 bytes is copied
/// into the id, so `id(n.to_string())` costs no allocation beyond the
/// `String`'s own.
///
/// ```
/// use sse_engine::{Event, EventId};
///
/// let from_request = String::from("order-17");
/// let events = [
///     Event::new().id(7u64),
///     Event::new().id(-7i32),
///     Event::new().id("literal"),
///     Event::new().id(42.to_string()),
///     Event::new().id(&from_request),
///     Event::new().id(from_request.as_str()),
///     Event::new().id(EventId::from(7u8)),
///     Event::new().try_id(from_request.clone()).unwrap(),
/// ];
/// assert_eq!(events[3].get_id().unwrap().to_string(), "42");
/// ```
///
/// This trait is sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event id",
    note = "give an integer, a `&str`, a `String` or an `EventId` (`EventId::from(value)` for a type that converts into one)"
)]
pub trait IntoEventId: sealed::Sealed {}

impl<T: sealed::Sealed> IntoEventId for T {}

pub(crate) mod sealed {
    use crate::{EventId, InvalidField};

    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not an event id",
        note = "give an integer, a `&str`, a `String` or an `EventId` (`EventId::from(value)` for a type that converts into one)"
    )]
    pub trait Sealed {
        /// Checks the id and stores it in `slot`, which is left alone on
        /// an error. (Stored in place rather than returned: an `Event` is
        /// built in a few moves, and one more `Result` around a 40-byte id
        /// made the text path measurably slower.)
        fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField>;
    }
}

impl sealed::Sealed for EventId {
    #[inline]
    fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField> {
        *slot = Some(self);
        Ok(())
    }
}

impl sealed::Sealed for &EventId {
    #[inline]
    fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField> {
        *slot = Some(self.clone());
        Ok(())
    }
}

impl<T: IntoText> sealed::Sealed for T {
    #[inline]
    fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField> {
        // Short text (`n.to_string()`) is checked in the words it is
        // copied with.
        let text = self.text_str();
        if text.len() <= crate::text::INLINE_MAX {
            let copy = Text::copy_short_line(text, check_text)?;
            *slot = Some(EventId(IdRepr::Text(copy)));
            return Ok(());
        }
        check_text(text.as_bytes())?;
        *slot = Some(EventId(IdRepr::Text(self.into_text())));
        Ok(())
    }
}

macro_rules! id_from_integer {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {
            #[inline]
            fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField> {
                *slot = Some(EventId::from(self));
                Ok(())
            }
        }
    )*};
}

id_from_integer!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// A client's `Last-Event-ID` was checked when it was read (its checks are
/// a superset of an id's): an event can carry it back as it is.
impl sealed::Sealed for crate::LastEventId {
    #[inline]
    fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField> {
        *slot = Some(EventId::from(self));
        Ok(())
    }
}

impl sealed::Sealed for &crate::LastEventId {
    #[inline]
    fn store_in(self, slot: &mut Option<EventId>) -> Result<(), InvalidField> {
        *slot = Some(EventId::from(self.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::text::INLINE_MAX;

    /// What `Event::try_id` stores.
    fn convert(id: impl IntoEventId) -> Result<EventId, InvalidField> {
        let mut slot = None;
        id.store_in(&mut slot)?;
        Ok(slot.expect("stored"))
    }

    fn wire(id: &EventId) -> BytesMut {
        let mut out = BytesMut::new();
        id.write_to(&mut out);
        assert_eq!(id.wire_len(), out.len());
        assert!(id.max_wire_len() >= out.len());
        out
    }

    #[test]
    fn a_position_id_is_written_like_its_display() {
        for (epoch, seq) in [(0, 0), (0xab, 7), ((1 << 48) - 1, u64::MAX)] {
            let id = EventId::position(epoch, seq);
            assert_eq!(&wire(&id)[..], format!("{epoch:012x}-{seq}").as_bytes());
            assert_eq!(id.to_string(), format!("{epoch:012x}-{seq}"));
            assert_eq!(
                format!("{id:?}"),
                format!("EventId(\"{epoch:012x}-{seq}\")")
            );
        }
    }

    #[test]
    fn ids_reject_line_breaks_and_nul() {
        for bad in ["a\nb", "a\rb", "\r\n", "a\0b"] {
            let error = EventId::new(bad).unwrap_err();
            assert_eq!(error.field(), FieldName::Id);
            assert_eq!(convert(bad), Err(error));
            assert_eq!(convert(bad.to_owned()), Err(error));
        }
        assert_eq!(
            EventId::new("x\0").unwrap_err().kind(),
            InvalidFieldKind::Nul
        );
        assert!(EventId::new("").is_ok());
        assert!(EventId::new(" spaced \t id ").is_ok());
        // Past the inline length too.
        let long = format!("{}\n", "x".repeat(100));
        assert!(EventId::new(long.as_str()).is_err());
    }

    #[test]
    fn integers_of_every_width_are_ids() {
        for id in [
            EventId::from(7),
            EventId::from(7usize),
            EventId::from(7u8),
            EventId::from(7i64),
            convert(7u16).unwrap(),
            convert(7isize).unwrap(),
        ] {
            assert_eq!(id, EventId::from(7u64));
            assert_eq!(&wire(&id)[..], b"7");
        }
        let negative = EventId::from(-120i32);
        assert_eq!(&wire(&negative)[..], b"-120");
        assert_eq!(negative.to_string(), "-120");
        assert_eq!(EventId::from(i64::MIN).to_string(), i64::MIN.to_string());
        assert_eq!(
            &wire(&EventId::from(i64::MIN))[..],
            i64::MIN.to_string().as_bytes()
        );
    }

    #[test]
    fn text_ids_of_every_length_are_written_as_given() {
        // Both sides of the inline limit, in every form a text id comes in.
        for len in [0, 1, 20, INLINE_MAX - 1, INLINE_MAX, INLINE_MAX + 1, 300] {
            let value: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let ids = [
                EventId::new(value.as_str()).unwrap(),
                EventId::new(value.clone()).unwrap(),
                EventId::new(Text::from_utf8(value.clone().into_bytes().into()).unwrap()).unwrap(),
                convert(value.as_str()).unwrap(),
                convert(&value).unwrap(),
                convert(value.clone()).unwrap(),
                EventId::try_from(value.as_str()).unwrap(),
            ];
            for id in &ids {
                assert_eq!(&wire(id)[..], value.as_bytes(), "{len}");
                assert_eq!(id.to_string(), value);
                assert_eq!(id.is_empty(), len == 0);
                assert_eq!(*id, ids[0]);
            }
            let set: HashSet<&EventId> = ids.iter().collect();
            assert_eq!(set.len(), 1, "{len}");
        }
    }

    #[test]
    fn a_number_and_its_text_are_different_ids() {
        let text = EventId::new("42").unwrap();
        assert_ne!(text, EventId::from(42u64));
        assert_eq!(text.as_u64(), None);
        assert_eq!(wire(&text), wire(&EventId::from(42u64)));
        let position = EventId::position(0xabc, 42);
        assert_ne!(EventId::new(position.to_string()).unwrap(), position);
    }

    #[test]
    fn an_id_is_no_larger_than_before_text_was_held_inline() {
        assert_eq!(size_of::<EventId>(), 40);
        assert_eq!(size_of::<Option<EventId>>(), size_of::<EventId>());
    }
}
