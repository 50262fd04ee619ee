//! Validated single-line fields: [`EventId`] and the errors for `id` and `event`.

use std::error::Error;
use std::fmt;

use bytes::BytesMut;

use crate::Text;

/// The `id` of an event: one line, without CR, LF or NUL.
///
/// Numbers convert without allocating and are written in decimal; text is
/// checked by [`EventId::new`], so an id taken from a request or an upstream
/// service can never add fields to an event.
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
    /// # Errors
    ///
    /// When the text contains CR, LF or NUL.
    pub fn new(id: impl Into<Text>) -> Result<Self, InvalidField> {
        let id = id.into();
        check_single_line(FieldName::Id, &id)?;
        if memchr::memchr(0, id.as_bytes()).is_some() {
            return Err(InvalidField::new(FieldName::Id, InvalidFieldKind::Nul));
        }
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
                push_hex12(out, *epoch);
                out.extend_from_slice(b"-");
                push_decimal(out, *seq);
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
            IdRepr::Position { seq, .. } => 12 + 1 + decimal_len(*seq),
        }
    }
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

impl TryFrom<&'static str> for EventId {
    type Error = InvalidField;

    fn try_from(id: &'static str) -> Result<Self, InvalidField> {
        Self::new(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Number(number) => fmt::Display::fmt(number, f),
            IdRepr::Negative(number) => fmt::Display::fmt(number, f),
            IdRepr::Text(text) => f.write_str(text),
            IdRepr::Position { epoch, seq } => write!(f, "{epoch:012x}-{seq}"),
        }
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Number(number) => f.debug_tuple("EventId").field(number).finish(),
            IdRepr::Negative(number) => f.debug_tuple("EventId").field(number).finish(),
            IdRepr::Text(text) => f.debug_tuple("EventId").field(text).finish(),
            IdRepr::Position { .. } => f.debug_tuple("EventId").field(&self.to_string()).finish(),
        }
    }
}

/// Which field a value was meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldName {
    /// The `id` field.
    Id,
    /// The `event` field (the event type).
    Event,
}

impl FieldName {
    fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Event => "event",
        }
    }
}

/// Why a value cannot be used in a single-line field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidFieldKind {
    /// A CR or LF would end the field and start another one.
    LineBreak,
    /// A NUL makes clients ignore the whole `id` field.
    Nul,
}

/// A value that cannot be written into an `id` or `event` field.
///
/// ```
/// use sse_engine::{Event, FieldName, InvalidFieldKind};
///
/// let error = Event::new().try_event("a\r\nb").unwrap_err();
/// assert_eq!(error.field(), FieldName::Event);
/// assert_eq!(error.kind(), InvalidFieldKind::LineBreak);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidField {
    field: FieldName,
    kind: InvalidFieldKind,
}

impl InvalidField {
    pub(crate) fn new(field: FieldName, kind: InvalidFieldKind) -> Self {
        Self { field, kind }
    }

    /// The field the value was meant for.
    pub fn field(&self) -> FieldName {
        self.field
    }

    /// What is wrong with the value.
    pub fn kind(&self) -> InvalidFieldKind {
        self.kind
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            InvalidFieldKind::LineBreak => "a line break (CR or LF)",
            InvalidFieldKind::Nul => "a NUL character",
        };
        write!(
            f,
            "the SSE `{}` field must not contain {what}",
            self.field.as_str()
        )
    }
}

impl Error for InvalidField {}

pub(crate) fn check_single_line(field: FieldName, value: &str) -> Result<(), InvalidField> {
    match crate::encode::find_line_break(value.as_bytes()) {
        Some(_) => Err(InvalidField::new(field, InvalidFieldKind::LineBreak)),
        None => Ok(()),
    }
}

pub(crate) fn decimal_len(mut number: u64) -> usize {
    let mut len = 1;
    while number >= 10 {
        number /= 10;
        len += 1;
    }
    len
}

pub(crate) fn push_decimal(out: &mut BytesMut, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// The longest wire form of a hub position: 12 hex digits, a dash, a `u64`.
const POSITION_MAX_LEN: usize = 12 + 1 + 20;

/// Appends the low 48 bits of `number` as 12 lowercase hex digits.
fn push_hex12(out: &mut BytesMut, number: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 12];
    for (index, digit) in digits.iter_mut().enumerate() {
        let shift = 4 * (11 - index);
        *digit = HEX[((number >> shift) & 0xf) as usize];
    }
    out.extend_from_slice(&digits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_id_is_written_like_its_display() {
        for (epoch, seq) in [(0, 0), (0xab, 7), ((1 << 48) - 1, u64::MAX)] {
            let id = EventId::position(epoch, seq);
            let mut out = BytesMut::new();
            id.write_to(&mut out);
            assert_eq!(&out[..], format!("{epoch:012x}-{seq}").as_bytes());
            assert_eq!(id.to_string(), format!("{epoch:012x}-{seq}"));
            assert_eq!(id.wire_len(), out.len());
            assert!(id.max_wire_len() >= out.len());
        }
    }

    #[test]
    fn decimal_matches_display() {
        for number in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = BytesMut::new();
            push_decimal(&mut out, number);
            assert_eq!(&out[..], number.to_string().as_bytes());
            assert_eq!(decimal_len(number), out.len());
        }
    }

    #[test]
    fn ids_reject_line_breaks_and_nul() {
        for bad in ["a\nb", "a\rb", "\r\n", "a\0b"] {
            let error = EventId::new(Text::copy_from(bad)).unwrap_err();
            assert_eq!(error.field(), FieldName::Id);
        }
        assert_eq!(
            EventId::new("x\0").unwrap_err().kind(),
            InvalidFieldKind::Nul
        );
        assert!(EventId::new("").is_ok());
        assert!(EventId::new(" spaced \t id ").is_ok());
    }

    #[test]
    fn integers_of_every_width_are_ids() {
        let mut out = BytesMut::new();
        for id in [
            EventId::from(7),
            EventId::from(7usize),
            EventId::from(7u8),
            EventId::from(7i64),
        ] {
            assert_eq!(id, EventId::from(7u64));
            assert_eq!(id.wire_len(), 1);
        }
        let negative = EventId::from(-120i32);
        negative.write_to(&mut out);
        assert_eq!(&out[..], b"-120");
        assert_eq!(negative.wire_len(), 4);
        assert_eq!(negative.to_string(), "-120");
        assert_eq!(EventId::from(i64::MIN).to_string(), i64::MIN.to_string());
        assert_eq!(
            EventId::from(i64::MIN).wire_len(),
            i64::MIN.to_string().len()
        );
    }

    #[test]
    fn error_message_names_field_and_reason() {
        let error = EventId::new("a\nb").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the SSE `id` field must not contain a line break (CR or LF)"
        );
    }
}
