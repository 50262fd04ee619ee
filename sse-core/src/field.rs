//! The errors for single-line fields (`id` and `event`), and the check
//! that raises them.

use std::error::Error;
use std::fmt;

use crate::wire::find_line_break;

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

pub(crate) fn check_single_line(
    field: FieldName,
    value: impl AsRef<[u8]>,
) -> Result<(), InvalidField> {
    match find_line_break(value.as_ref()) {
        Some(_) => Err(InvalidField::new(field, InvalidFieldKind::LineBreak)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::EventId;

    #[test]
    fn error_message_names_field_and_reason() {
        let error = EventId::new("a\nb").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the SSE `id` field must not contain a line break (CR or LF)"
        );
    }
}
