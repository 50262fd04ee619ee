//! [`IntoText`]: what event fields accept, and how each form becomes a
//! [`Text`].

use std::borrow::Cow;

use super::Text;

/// A string that event fields accept: what axum's `Event` accepts, without
/// a copy where one can be avoided.
///
/// | type | becomes |
/// | --- | --- |
/// | `&str`, `&&str`, `&String`, `&Cow<str>`, `Arc<str>`, `&Arc<str>` | a copy |
/// | `String`, `Box<str>` | taken over (copied in when short) |
/// | `Cow<str>` | borrowed: a copy; owned: taken over |
/// | [`Text`] | itself |
/// | `&Text` | a clone (a reference count, or a short copy) |
///
/// Text up to 23 bytes is always held inside the [`Text`], with no
/// allocation. A borrowed string cannot tell whether it lives forever, so a
/// long string literal is copied too: wrap it in [`Text::from_static`] to
/// send it without a copy.
///
/// ```
/// use sse_engine::Event;
///
/// fn f(s: &str) -> Event {
///     Event::new().data(s).event(s).id(s.len().to_string())
/// }
/// assert_eq!(f("hi").encode().as_bytes(), "event: hi\nid: 2\ndata: hi\n\n");
/// ```
///
/// This trait is sealed: the list above is all there is, and
/// [`Text::new`] converts any of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not text an event field takes",
    note = "give a `&str`, a `String` or a `Text` (`Text::from(value)` for a type that converts into one)"
)]
pub trait IntoText: sealed::Sealed {}

pub(crate) mod sealed {
    use super::{Text, store_copy};
    use crate::field::{FieldName, InvalidField, check_single_line};
    use crate::text::INLINE_MAX;

    // Each method has a form that checks the source's bytes and then writes
    // straight into the event's field: built in a temporary and moved, a
    // short text is read back before its bytes reach memory, which stalls
    // the processor longer than building the rest of the event takes.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not text an event field takes",
        note = "give a `&str`, a `String` or a `Text` (`Text::from(value)` for a type that converts into one)"
    )]
    pub trait Sealed: Sized {
        /// The text, before any conversion.
        fn text_str(&self) -> &str;

        fn into_text(self) -> Text;

        #[inline]
        fn store_in(self, slot: &mut Option<Text>) {
            *slot = Some(self.into_text());
        }

        /// Checks that the text is one line, then stores it (`slot` is
        /// left alone on an error). Short text is copied in, and checked
        /// while it is copied, in the same words.
        #[inline]
        fn store_line_in(
            self,
            slot: &mut Option<Text>,
            field: FieldName,
        ) -> Result<(), InvalidField> {
            let text = self.text_str();
            if text.len() <= INLINE_MAX {
                *slot = Some(Text::copy_short_line(text, |bytes| {
                    check_single_line(field, bytes)
                })?);
                return Ok(());
            }
            check_single_line(field, text.as_bytes())?;
            self.store_in(slot);
            Ok(())
        }
    }

    /// Borrowed strings: copied, by one function for all of them.
    macro_rules! text_by_copy {
        ($($ty:ty),*) => {$(
            impl Sealed for $ty {
                #[inline]
                fn text_str(&self) -> &str {
                    AsRef::<str>::as_ref(self)
                }

                #[inline]
                fn into_text(self) -> Text {
                    Text::copy_from(self.as_ref())
                }

                #[inline]
                fn store_in(self, slot: &mut Option<Text>) {
                    store_copy(slot, self.as_ref());
                }
            }
        )*};
    }

    text_by_copy!(&str, &&str, &String, &std::borrow::Cow<'_, str>);
    text_by_copy!(std::sync::Arc<str>, &std::sync::Arc<str>);
    text_by_copy!(
        &mut str,
        &mut String,
        &Box<str>,
        std::rc::Rc<str>,
        &std::rc::Rc<str>
    );
}

impl<T: sealed::Sealed> IntoText for T {}

/// Stores a copy of `text` in `slot`.
#[inline(never)]
fn store_copy(slot: &mut Option<Text>, text: &str) {
    *slot = Some(Text::copy_from(text));
}

/// Owned text, and shared `Text`: taken over (or its reference count
/// raised), never copied unless short.
macro_rules! text_by_value {
    ($($ty:ty => |$text:ident| $into:expr),* $(,)?) => {$(
        impl sealed::Sealed for $ty {
            #[inline]
            fn text_str(&self) -> &str {
                self
            }

            #[inline]
            fn into_text(self) -> Text {
                let $text = self;
                $into
            }
        }
    )*};
}

text_by_value! {
    Text => |text| text,
    &Text => |text| text.clone(),
    String => |text| Text::from(text),
    Box<str> => |text| Text::from(text),
}

impl sealed::Sealed for Cow<'_, str> {
    #[inline]
    fn text_str(&self) -> &str {
        self
    }

    fn into_text(self) -> Text {
        match self {
            Cow::Borrowed(text) => Text::copy_from(text),
            Cow::Owned(text) => Text::from(text),
        }
    }
}

impl Text {
    /// Makes text from anything an event field accepts (see [`IntoText`]):
    /// short text is copied in, a `String` is taken over, a borrowed `str`
    /// is copied.
    pub fn new(text: impl IntoText) -> Self {
        text.into_text()
    }
}
