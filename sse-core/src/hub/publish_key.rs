//! [`PublishKey`]: the caller's name for one publish, so that a publish sent
//! again is stored once.

use std::error::Error;
use std::fmt;
use std::str::FromStr;

use crate::Text;

/// The longest [`PublishKey`], in bytes: short enough for a NATS header
/// value and a Redis key with a prefix in front.
pub const MAX_PUBLISH_KEY_BYTES: usize = 128;

/// The request header that carries a publish key over HTTP,
/// `Idempotency-Key` (as Stripe and the IETF draft
/// `draft-ietf-httpapi-idempotency-key-header` name it); read it with
/// [`PublishKey::from_headers`].
pub const IDEMPOTENCY_KEY: http::HeaderName = http::HeaderName::from_static("idempotency-key");

/// A name the caller gives one publish, so that the same publish sent again
/// (a client that retries a `POST` after a timeout, say) is stored once:
/// [`Hub::publish_keyed`](super::Hub::publish_keyed) with a key the store
/// has already seen returns the position of the first event, and appends
/// and delivers nothing.
///
/// A key is 1 to [`MAX_PUBLISH_KEY_BYTES`] bytes of visible ASCII
/// (`!` to `~`: no space, no control character), so that every store can
/// use it as it is (a NATS `Nats-Msg-Id` header, a Redis key). A UUID or
/// any random token of the client fits.
///
/// A key names the publish, not its content: a second publish under a key
/// already used is answered with the first one's position, whatever its
/// topics and event. Each store remembers keys for a window of its own
/// (see [`Store::append_keyed`](super::Store::append_keyed)); a key used
/// again after it publishes anew.
///
/// ```
/// use sse_engine::hub::{PublishKey, PublishKeyError};
///
/// let key = PublishKey::try_from("order-17-paid").unwrap();
/// assert_eq!(key.as_str(), "order-17-paid");
/// assert_eq!(PublishKey::try_from(""), Err(PublishKeyError::Empty));
/// assert!(matches!(
///     PublishKey::try_from("with space"),
///     Err(PublishKeyError::InvalidByte { index: 4, byte: b' ' })
/// ));
/// assert!(PublishKey::try_from("x".repeat(129)).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublishKey(Text);

impl PublishKey {
    /// Checks `key`; see the [type docs](PublishKey) for what is accepted.
    ///
    /// # Errors
    ///
    /// When `key` is empty, longer than [`MAX_PUBLISH_KEY_BYTES`], or holds
    /// a byte that is not visible ASCII.
    pub fn new(key: &str) -> Result<Self, PublishKeyError> {
        check(key)?;
        Ok(Self(Text::copy_from(key)))
    }

    /// The key read from a request's `Idempotency-Key` header
    /// ([`IDEMPOTENCY_KEY`]): `None` without one. A value in double quotes
    /// (a structured-field string, as the IETF draft writes it) is taken
    /// without its quotes.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use sse_engine::hub::{IDEMPOTENCY_KEY, PublishKey, PublishKeyError};
    ///
    /// let mut headers = HeaderMap::new();
    /// assert_eq!(PublishKey::from_headers(&headers), Ok(None));
    /// headers.insert(IDEMPOTENCY_KEY, "\"8e03978e\"".parse().unwrap());
    /// assert_eq!(PublishKey::from_headers(&headers).unwrap().unwrap().as_str(), "8e03978e");
    /// headers.append(IDEMPOTENCY_KEY, "other".parse().unwrap());
    /// assert_eq!(PublishKey::from_headers(&headers), Err(PublishKeyError::Repeated));
    /// ```
    ///
    /// # Errors
    ///
    /// When the header is repeated, or its value is not a valid key.
    pub fn from_headers(headers: &http::HeaderMap) -> Result<Option<Self>, PublishKeyError> {
        Self::from_header_values(
            headers
                .get_all(IDEMPOTENCY_KEY)
                .iter()
                .map(http::HeaderValue::as_bytes),
        )
    }

    /// The key of a request's `Idempotency-Key` header, from its values
    /// (one per header line), as [`PublishKey::from_headers`] reads them:
    /// for a framework whose header types are not `http`'s. `None` without
    /// one.
    ///
    /// ```
    /// use sse_engine::hub::{PublishKey, PublishKeyError};
    ///
    /// let key = PublishKey::from_header_values([&b"msg-1"[..]]).unwrap();
    /// assert_eq!(key.unwrap().as_str(), "msg-1");
    /// assert_eq!(PublishKey::from_header_values([]), Ok(None));
    /// assert_eq!(
    ///     PublishKey::from_header_values([&b"a"[..], &b"b"[..]]),
    ///     Err(PublishKeyError::Repeated)
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// When the header is repeated, or its value is not a valid key.
    pub fn from_header_values<'a>(
        values: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Option<Self>, PublishKeyError> {
        let mut values = values.into_iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(PublishKeyError::Repeated);
        }
        Self::from_header_value(value).map(Some)
    }

    /// The key of one `Idempotency-Key` header value, as
    /// [`PublishKey::from_headers`] reads it (without surrounding double
    /// quotes): for a framework whose header types are not `http`'s.
    ///
    /// ```
    /// use sse_engine::hub::PublishKey;
    ///
    /// assert_eq!(PublishKey::from_header_value(b"\"abc\"").unwrap().as_str(), "abc");
    /// assert!(PublishKey::from_header_value(b"a\xffb").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// When the value is not a valid key.
    pub fn from_header_value(value: &[u8]) -> Result<Self, PublishKeyError> {
        let bytes = match value {
            [b'"', inner @ .., b'"'] => inner,
            other => other,
        };
        // Checked byte by byte (a header value may hold any byte): then
        // every byte is ASCII, one char each.
        check_bytes(bytes)?;
        let key: String = bytes.iter().map(|&byte| char::from(byte)).collect();
        Ok(Self(Text::from(key)))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check(key: &str) -> Result<(), PublishKeyError> {
    check_bytes(key.as_bytes())
}

fn check_bytes(key: &[u8]) -> Result<(), PublishKeyError> {
    if key.is_empty() {
        return Err(PublishKeyError::Empty);
    }
    if key.len() > MAX_PUBLISH_KEY_BYTES {
        return Err(PublishKeyError::TooLong { len: key.len() });
    }
    match key.iter().position(|byte| !byte.is_ascii_graphic()) {
        Some(index) => Err(PublishKeyError::InvalidByte {
            index,
            byte: key[index],
        }),
        None => Ok(()),
    }
}

impl TryFrom<&str> for PublishKey {
    type Error = PublishKeyError;

    fn try_from(key: &str) -> Result<Self, Self::Error> {
        Self::new(key)
    }
}

impl TryFrom<String> for PublishKey {
    type Error = PublishKeyError;

    fn try_from(key: String) -> Result<Self, Self::Error> {
        check(&key)?;
        Ok(Self(Text::from(key)))
    }
}

impl FromStr for PublishKey {
    type Err = PublishKeyError;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Self::new(key)
    }
}

impl AsRef<str> for PublishKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for PublishKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PublishKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublishKey").field(&self.as_str()).finish()
    }
}

/// Why a [`PublishKey`] was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishKeyError {
    /// The key is empty.
    Empty,
    /// The key is longer than [`MAX_PUBLISH_KEY_BYTES`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The key holds a byte that is not visible ASCII (a space, a control
    /// character, or a non-ASCII one).
    InvalidByte {
        /// Where, in bytes from the start.
        index: usize,
        /// The byte.
        byte: u8,
    },
    /// The request has more than one `Idempotency-Key` header.
    Repeated,
}

impl fmt::Display for PublishKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("publish key is empty"),
            Self::TooLong { len } => write!(
                f,
                "publish key is {len} bytes, more than the {MAX_PUBLISH_KEY_BYTES} allowed"
            ),
            Self::InvalidByte { index, byte } => write!(
                f,
                "publish key has byte 0x{byte:02x} at {index}: only visible ASCII (! to ~) is allowed"
            ),
            Self::Repeated => f.write_str("more than one Idempotency-Key header"),
        }
    }
}

impl Error for PublishKeyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(PublishKey::new(&"k".repeat(MAX_PUBLISH_KEY_BYTES)).is_ok());
        assert_eq!(
            PublishKey::new(&"k".repeat(MAX_PUBLISH_KEY_BYTES + 1)),
            Err(PublishKeyError::TooLong { len: 129 })
        );
        assert_eq!(
            PublishKey::new("é"),
            Err(PublishKeyError::InvalidByte {
                index: 0,
                byte: 0xc3
            })
        );
        assert!(PublishKey::new("a\nb").is_err());
        assert!(PublishKey::new("!~").is_ok());
    }

    #[test]
    fn header_values() {
        let mut headers = http::HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, http::HeaderValue::from_static("\"\""));
        assert_eq!(
            PublishKey::from_headers(&headers),
            Err(PublishKeyError::Empty)
        );
        headers.insert(
            IDEMPOTENCY_KEY,
            http::HeaderValue::from_bytes(b"ab\xffc").unwrap(),
        );
        assert_eq!(
            PublishKey::from_headers(&headers),
            Err(PublishKeyError::InvalidByte {
                index: 2,
                byte: 0xff
            })
        );
    }
}
