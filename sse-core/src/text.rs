//! [`Text`]: the string type every event field is held in.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;
use std::str::Utf8Error;

use bytes::Bytes;
use bytestring::ByteString;

/// A UTF-8 string held in reference-counted [`Bytes`]: cloning it, or slicing a
/// line out of it for the wire, never copies the text.
///
/// Event fields take `impl Into<Text>`. A `&'static str` and a `String` convert
/// without copying; a `&String` is copied. A borrowed `&str` that is not
/// `'static` gives a "does not live long enough" error: copy it with
/// [`Text::copy_from`] (or `to_owned()`).
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
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(ByteString);

impl Text {
    /// Wraps a string literal without copying it.
    pub const fn from_static(text: &'static str) -> Self {
        Self(ByteString::from_static(text))
    }

    /// Copies a borrowed string.
    pub fn copy_from(text: &str) -> Self {
        Self(ByteString::from(text))
    }

    /// Takes bytes that are already shared (read from a socket, a cache, a
    /// serializer), checking that they are UTF-8. Nothing is copied.
    ///
    /// # Errors
    ///
    /// When the bytes are not valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Utf8Error> {
        ByteString::try_from(bytes).map(Self)
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text's bytes, shared.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// The text's bytes, shared.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

// Text hashes and compares as its str does, so maps keyed by Text can be
// looked up with a &str.
impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Self {
        Self::from_static(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(ByteString::from(text))
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Self::copy_from(text)
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Self {
        Self(ByteString::from(text))
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
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
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
    use super::*;

    #[test]
    fn static_text_is_not_copied() {
        let text = Text::from("literal");
        assert_eq!(text.as_bytes().as_ptr(), "literal".as_ptr());
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
    }
}
