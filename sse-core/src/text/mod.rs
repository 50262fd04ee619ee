//! [`Text`]: the string type every event field is held in, and [`IntoText`],
//! what the fields accept.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::Utf8Error;

use bytes::Bytes;
use bytestring::ByteString;

use self::inline::Inline;

mod inline;
mod into;

pub(crate) use self::inline::INLINE_MAX;
pub use self::into::IntoText;

/// A UTF-8 string that event fields are held in: cloning it, or slicing a
/// line out of it for the wire, never copies long text.
///
/// Short text (up to 23 bytes: event names, ids, small payloads) is held
/// inside the `Text` itself, so making one from a borrowed `&str` or a
/// `String` allocates nothing. Longer text is held in reference-counted
/// [`Bytes`].
///
/// Event fields take [`impl IntoText`](IntoText): any `&str`, borrowed for
/// however long, `String`, `&String`, `Box<str>`, `Cow<str>`, `Arc<str>`
/// and `Text`. To keep long text from being copied:
///
/// - a string literal: [`Text::from_static`] (or `Text::from("...")`);
/// - a `String`: pass it by value, its buffer is taken over;
/// - bytes already shared (read from a socket, a cache, a serializer):
///   [`Text::from_utf8`];
/// - a `Text` sent many times: clone it, which only counts a reference.
///
/// ```
/// use bytes::Bytes;
/// use sse_engine::Text;
///
/// let greeting = Text::from("hello");
/// let owned = Text::from(format!("{greeting}, world"));
/// let shared = Text::from_utf8(Bytes::from_static(b"{\"ok\":true}")).unwrap();
/// assert_eq!(&*owned, "hello, world");
/// assert_eq!(shared.as_str(), r#"{"ok":true}"#);
///
/// fn copied(borrowed: &str) -> Text {
///     Text::new(borrowed)
/// }
/// assert_eq!(copied(&owned), "hello, world");
/// ```
///
/// Texts compare, order and hash as their `str` does, however they are held.
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    /// Reference-counted (or static) bytes, valid UTF-8.
    Shared(ByteString),
    /// A short string copied in: no allocation, no reference count.
    Inline(Inline),
}

impl Text {
    /// Wraps a string literal without copying it.
    pub const fn from_static(text: &'static str) -> Self {
        Self(Repr::Shared(ByteString::from_static(text)))
    }

    /// Copies a borrowed string.
    #[inline]
    pub fn copy_from(text: &str) -> Self {
        if text.len() <= INLINE_MAX {
            Self(Repr::Inline(Inline::copy(text.as_bytes())))
        } else {
            Self(Repr::Shared(ByteString::from(text)))
        }
    }

    /// A copy of short text (at most [`INLINE_MAX`] bytes) for a field
    /// that must be one line, checked by `check` only when the copy found a
    /// byte below 0x0E in it (every LF, CR and NUL is one): short names and
    /// ids are checked in the words they are copied with.
    #[inline(always)]
    pub(crate) fn copy_short_line<E>(
        text: &str,
        check: impl FnOnce(&[u8]) -> Result<(), E>,
    ) -> Result<Self, E> {
        let (inline, low) = Inline::copy_flagging_low(text.as_bytes());
        if low {
            check(text.as_bytes())?;
        }
        Ok(Self(Repr::Inline(inline)))
    }

    /// Takes bytes that are already shared (read from a socket, a cache, a
    /// serializer), checking that they are UTF-8. Nothing is copied.
    ///
    /// # Errors
    ///
    /// When the bytes are not valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Utf8Error> {
        ByteString::try_from(bytes).map(|text| Self(Repr::Shared(text)))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Shared(text) => text,
            Repr::Inline(inline) => inline.as_str(),
        }
    }

    /// The text's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Shared(text) => text.as_bytes(),
            Repr::Inline(inline) => inline.as_bytes(),
        }
    }

    /// The text's bytes as [`Bytes`]: shared when the text is, copied when
    /// it is short text held inline.
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Shared(text) => text.into_bytes(),
            Repr::Inline(inline) => Bytes::copy_from_slice(inline.as_bytes()),
        }
    }

    /// The shared bytes behind the text, unless it is held inline.
    #[inline]
    pub(crate) fn shared_bytes(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Shared(text) => Some(text.as_bytes()),
            Repr::Inline(_) => None,
        }
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the text is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

// Written out rather than derived: a derived clone of shared text lets
// `Bytes::clone` return into a temporary that is then copied into the
// clone in 16-byte pieces, read back before its 8-byte stores reach
// memory; that stall made cloning a shared `Text` 11 ns where cloning its
// `Bytes` takes 2.5 ns. Called out of line, the clone is returned straight
// into its place (2.7 ns). An event built from shared data clones one for
// every event: tokens went from 63.6 to 56.0 ns per event in the encode
// benchmark.
impl Clone for Text {
    #[inline]
    fn clone(&self) -> Self {
        match &self.0 {
            Repr::Shared(text) => clone_shared(text),
            Repr::Inline(inline) => Self(Repr::Inline(*inline)),
        }
    }
}

#[inline(never)]
fn clone_shared(text: &ByteString) -> Text {
    Text(Repr::Shared(text.clone()))
}

impl Default for Text {
    fn default() -> Self {
        Self(Repr::Inline(Inline::EMPTY))
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

// Text hashes and compares as its str does, so maps keyed by Text can be
// looked up with a &str.
impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    // A str orders as its bytes do.
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Self {
        Self::from_static(text)
    }
}

impl From<String> for Text {
    #[inline]
    fn from(text: String) -> Self {
        if text.len() <= INLINE_MAX {
            Self(Repr::Inline(Inline::copy(text.as_bytes())))
        } else {
            Self(Repr::Shared(ByteString::from(text)))
        }
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Self::copy_from(text)
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        if text.len() <= INLINE_MAX {
            Self(Repr::Inline(Inline::copy(text.as_bytes())))
        } else {
            Self(Repr::Shared(ByteString::from(text)))
        }
    }
}

impl From<Cow<'static, str>> for Text {
    fn from(text: Cow<'static, str>) -> Self {
        match text {
            Cow::Borrowed(text) => Self::from_static(text),
            Cow::Owned(text) => Self::from(text),
        }
    }
}

impl TryFrom<Bytes> for Text {
    type Error = Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        Self::from_utf8(bytes)
    }
}

impl TryFrom<Vec<u8>> for Text {
    type Error = Utf8Error;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Utf8Error> {
        Self::from_utf8(Bytes::from(bytes))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    fn is_inline(text: &Text) -> bool {
        text.shared_bytes().is_none()
    }

    #[test]
    fn static_text_is_not_copied() {
        let text = Text::from("literal");
        assert_eq!(text.as_bytes().as_ptr(), "literal".as_ptr());
        let long = Text::from_static("a literal longer than any inline text is");
        assert!(!is_inline(&long));
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert!(Text::from_utf8(Bytes::from_static(b"ok \xff")).is_err());
        assert!(Text::try_from(vec![0xc3]).is_err());
        assert_eq!(Text::try_from(vec![0xc3, 0xa9]).unwrap(), "é");
    }

    #[test]
    fn shared_bytes_are_not_copied() {
        let bytes = Bytes::from(vec![b'a'; 100]);
        let text = Text::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.as_bytes().as_ptr(), bytes.as_ptr());
        // Cloned out of line (see `Clone for Text`), still shared.
        assert_eq!(text.clone().as_bytes().as_ptr(), bytes.as_ptr());
        assert_eq!(text.into_bytes().as_ptr(), bytes.as_ptr());
    }

    #[test]
    fn short_text_is_held_inline_and_long_text_is_shared() {
        for len in [0, 1, INLINE_MAX - 1, INLINE_MAX, INLINE_MAX + 1, 200] {
            let value = "é".repeat(len / 2) + &"x".repeat(len % 2);
            assert_eq!(value.len(), len);
            let inline = len <= INLINE_MAX;
            let texts = [
                Text::copy_from(&value),
                Text::new(value.as_str()),
                Text::new(&value),
                Text::from(value.clone()),
                Text::from(value.clone().into_boxed_str()),
                Text::new(Cow::Borrowed(value.as_str())),
                Text::new(Arc::<str>::from(value.as_str())),
            ];
            for text in texts {
                assert_eq!(is_inline(&text), inline, "{len}");
                assert_eq!(text.as_str(), value);
                assert_eq!(text.len(), len);
                assert_eq!(text.clone().into_bytes(), value.as_bytes());
            }
        }
        // A long String's buffer is taken over, not copied.
        let long = "y".repeat(INLINE_MAX + 1);
        let pointer = long.as_ptr();
        assert_eq!(Text::from(long).as_bytes().as_ptr(), pointer);
    }

    #[test]
    fn equal_text_compares_and_hashes_equal_however_it_is_held() {
        let value = "same text";
        let shared = Text::from_static(value);
        let inline = Text::copy_from(value);
        assert!(!is_inline(&shared) && is_inline(&inline));
        assert_eq!(shared, inline);
        assert_eq!(shared.cmp(&inline), Ordering::Equal);
        let set: HashSet<Text> = [shared].into_iter().collect();
        assert!(set.contains(&inline));
        assert!(set.contains(value));
        assert!(Text::copy_from("a") < Text::from_static("b"));
        assert_eq!(Text::default(), Text::from_static(""));
    }

    #[test]
    fn a_text_is_as_large_as_bytes() {
        assert_eq!(size_of::<Text>(), size_of::<Bytes>());
        assert!(size_of::<Option<Text>>() <= size_of::<Bytes>() + 8);
    }
}
