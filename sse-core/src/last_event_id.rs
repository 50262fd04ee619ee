//! [`LastEventId`]: the cursor a reconnecting client sends, parsed and checked.

use std::error::Error;
use std::fmt;

use http::header::HeaderName;
use http::{HeaderMap, Uri};

use crate::{EventId, Text};

/// The `Last-Event-ID` request header.
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// The id of the last event a client received, as it sent it back when it
/// reconnected: at most [`LastEventId::MAX_LEN`] bytes of UTF-8 without CR, LF
/// or NUL.
///
/// A value that breaks these rules is not a cursor: the parsers report why,
/// so the application can treat the request as a first connection (and log
/// it) instead of failing it.
///
/// ```
/// use http::{HeaderMap, Uri};
/// use sse_engine::{LastEventId, LastEventIdError};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(LastEventId::from_headers(&headers), Ok(None));
///
/// headers.insert("last-event-id", "42".parse().unwrap());
/// let cursor = LastEventId::from_headers(&headers).unwrap().unwrap();
/// assert_eq!(cursor.as_str(), "42");
///
/// headers.insert("last-event-id", "x".repeat(2000).parse().unwrap());
/// assert_eq!(
///     LastEventId::from_headers(&headers),
///     Err(LastEventIdError::TooLong { len: 2000 })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LastEventId(Text);

impl LastEventId {
    /// The longest value accepted, in bytes. Ids the workspace assigns are far
    /// shorter; the cap bounds what a client can make the server look up.
    pub const MAX_LEN: usize = 1024;

    /// Reads the `Last-Event-ID` header. `Ok(None)` when it is absent or empty
    /// (browsers send no header before the first id; an empty id means "no
    /// cursor").
    ///
    /// # Errors
    ///
    /// When the header is repeated, or its value is not a usable id.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, LastEventIdError> {
        let values = headers
            .get_all(LAST_EVENT_ID)
            .iter()
            .map(|value| value.as_bytes());
        Self::from_parts(values, None)
    }

    /// The cursor of a request: the `Last-Event-ID` header, or when there is
    /// none, the `lastEventId` (or `last_event_id`) query parameter, which
    /// lets a page pass a cursor on its first connection (an `EventSource`
    /// cannot set headers). The header wins when both are present.
    ///
    /// ```
    /// use http::{HeaderMap, Uri};
    /// use sse_engine::LastEventId;
    ///
    /// let uri: Uri = "/events?topic=chat&lastEventId=a1b2%2D7".parse().unwrap();
    /// let cursor = LastEventId::from_request(&HeaderMap::new(), &uri).unwrap().unwrap();
    /// assert_eq!(cursor.as_str(), "a1b2-7");
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("last-event-id", "a1b2-9".parse().unwrap());
    /// let cursor = LastEventId::from_request(&headers, &uri).unwrap().unwrap();
    /// assert_eq!(cursor.as_str(), "a1b2-9");
    /// ```
    ///
    /// # Errors
    ///
    /// When the header (or, without it, the parameter) is present but not a
    /// usable id, or is given more than once.
    pub fn from_request(headers: &HeaderMap, uri: &Uri) -> Result<Option<Self>, LastEventIdError> {
        let values = headers
            .get_all(LAST_EVENT_ID)
            .iter()
            .map(|value| value.as_bytes());
        Self::from_parts(values, uri.query())
    }

    /// [`LastEventId::from_request`] for any framework: the raw values of the
    /// `Last-Event-ID` header, and the query string (without `?`). For
    /// servers built on other versions of the `http` crate (actix-web 4).
    ///
    /// ```
    /// use sse_engine::LastEventId;
    ///
    /// let from_query = LastEventId::from_parts([], Some("lastEventId=7")).unwrap();
    /// assert_eq!(from_query.unwrap().as_str(), "7");
    /// let from_header = LastEventId::from_parts([&b"9"[..]], Some("lastEventId=7")).unwrap();
    /// assert_eq!(from_header.unwrap().as_str(), "9");
    /// ```
    ///
    /// # Errors
    ///
    /// As [`LastEventId::from_request`].
    pub fn from_parts<'a>(
        header_values: impl IntoIterator<Item = &'a [u8]>,
        query: Option<&str>,
    ) -> Result<Option<Self>, LastEventIdError> {
        let mut values = header_values.into_iter();
        if let Some(value) = values.next() {
            if values.next().is_some() {
                return Err(LastEventIdError::Repeated);
            }
            return Self::parse(value);
        }
        let Some(query) = query else {
            return Ok(None);
        };
        let mut found = None;
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key != "lastEventId" && key != "last_event_id" {
                continue;
            }
            if found.is_some() {
                return Err(LastEventIdError::Repeated);
            }
            found = Some(value);
        }
        match found {
            None => Ok(None),
            Some(value) => Self::parse(&percent_decode(value)?),
        }
    }

    /// Checks raw bytes (a header value, a decoded query parameter). `Ok(None)`
    /// when empty.
    ///
    /// # Errors
    ///
    /// When the value is too long, not UTF-8, or holds CR, LF or NUL.
    pub fn parse(value: &[u8]) -> Result<Option<Self>, LastEventIdError> {
        if value.len() > Self::MAX_LEN {
            return Err(LastEventIdError::TooLong { len: value.len() });
        }
        if value.is_empty() {
            return Ok(None);
        }
        if memchr::memchr3(b'\r', b'\n', 0, value).is_some() {
            return Err(LastEventIdError::ForbiddenCharacter);
        }
        let text = std::str::from_utf8(value).map_err(|_| LastEventIdError::NotUtf8)?;
        Ok(Some(Self(Text::copy_from(text))))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as text, shared.
    pub fn into_text(self) -> Text {
        self.0
    }
}

/// The cursor a request carried, parsed once: by the `sse-tower` layer, which
/// stores it in the request's extensions, or by an adapter's extractor. Every
/// reader of a request sees the same answer.
///
/// ```
/// use http::{HeaderMap, Uri};
/// use sse_engine::RequestCursor;
///
/// let uri: Uri = "/events?lastEventId=42".parse().unwrap();
/// let cursor = RequestCursor::from_request(&HeaderMap::new(), &uri);
/// assert_eq!(cursor.last_event_id().map(|id| id.as_str()), Some("42"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCursor {
    /// The client sent no cursor: a first connection.
    Absent,
    /// The client asked to resume after this id.
    Valid(LastEventId),
    /// The client sent a cursor that cannot be used; it should be told of a gap.
    Invalid(LastEventIdError),
}

impl RequestCursor {
    /// Reads the cursor with [`LastEventId::from_request`].
    pub fn from_request(headers: &HeaderMap, uri: &Uri) -> Self {
        Self::from(LastEventId::from_request(headers, uri))
    }

    /// Reads the cursor with [`LastEventId::from_parts`], for any framework.
    pub fn from_parts<'a>(
        header_values: impl IntoIterator<Item = &'a [u8]>,
        query: Option<&str>,
    ) -> Self {
        Self::from(LastEventId::from_parts(header_values, query))
    }

    /// The usable id, or why there is none: what an extractor that requires
    /// a `Last-Event-ID` answers.
    ///
    /// # Errors
    ///
    /// When the cursor is absent or invalid.
    pub fn require(self) -> Result<LastEventId, CursorRejection> {
        match self {
            Self::Valid(id) => Ok(id),
            Self::Absent => Err(CursorRejection(None)),
            Self::Invalid(error) => Err(CursorRejection(Some(error))),
        }
    }

    /// The id to resume after, when there is a usable one.
    pub fn last_event_id(&self) -> Option<&LastEventId> {
        match self {
            Self::Valid(id) => Some(id),
            Self::Absent | Self::Invalid(_) => None,
        }
    }
}

/// A request without a usable `Last-Event-ID`: missing (`None`), or unusable
/// for the reason given. Adapters answer it with `400 Bad Request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorRejection(pub Option<LastEventIdError>);

impl fmt::Display for CursorRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("missing Last-Event-ID"),
            Some(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl Error for CursorRejection {}

impl From<Result<Option<LastEventId>, LastEventIdError>> for RequestCursor {
    fn from(parsed: Result<Option<LastEventId>, LastEventIdError>) -> Self {
        match parsed {
            Ok(None) => Self::Absent,
            Ok(Some(id)) => Self::Valid(id),
            Err(error) => Self::Invalid(error),
        }
    }
}

/// Decodes `%XX` and `+` (a space, in form encoding). A `%` not followed by two
/// hex digits stays as it is, as URL parsers leave it.
fn percent_decode(value: &str) -> Result<Vec<u8>, LastEventIdError> {
    // Every decoded byte takes at least one input byte and at most three.
    if value.len() > 3 * LastEventId::MAX_LEN {
        return Err(LastEventIdError::TooLong { len: value.len() });
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (byte, hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                index += 1;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    Ok(out)
}

impl From<LastEventId> for EventId {
    fn from(cursor: LastEventId) -> Self {
        // The cursor's checks are a superset of EventId's.
        match EventId::new(cursor.0) {
            Ok(id) => id,
            Err(error) => unreachable!("a checked Last-Event-ID is a valid id: {error}"),
        }
    }
}

impl fmt::Display for LastEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a `Last-Event-ID` value is not a usable cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LastEventIdError {
    /// Longer than [`LastEventId::MAX_LEN`] bytes.
    TooLong {
        /// The length received.
        len: usize,
    },
    /// Not valid UTF-8.
    NotUtf8,
    /// Holds CR, LF or NUL, which no event id can.
    ForbiddenCharacter,
    /// The header appeared more than once.
    Repeated,
}

impl fmt::Display for LastEventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(
                f,
                "Last-Event-ID is {len} bytes long, more than the {} allowed",
                LastEventId::MAX_LEN
            ),
            Self::NotUtf8 => f.write_str("Last-Event-ID is not valid UTF-8"),
            Self::ForbiddenCharacter => f.write_str("Last-Event-ID contains CR, LF or NUL"),
            Self::Repeated => f.write_str("Last-Event-ID was sent more than once"),
        }
    }
}

impl Error for LastEventIdError {}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn limits() {
        let longest = vec![b'a'; LastEventId::MAX_LEN];
        assert!(LastEventId::parse(&longest).unwrap().is_some());
        let too_long = vec![b'a'; LastEventId::MAX_LEN + 1];
        assert_eq!(
            LastEventId::parse(&too_long),
            Err(LastEventIdError::TooLong { len: 1025 })
        );
    }

    #[test]
    fn rejects_what_no_id_can_hold() {
        assert_eq!(
            LastEventId::parse(b"\xff\xfe"),
            Err(LastEventIdError::NotUtf8)
        );
        for bad in [&b"a\nb"[..], b"a\rb", b"a\0b"] {
            assert_eq!(
                LastEventId::parse(bad),
                Err(LastEventIdError::ForbiddenCharacter)
            );
        }
        assert_eq!(LastEventId::parse(b""), Ok(None));
        assert_eq!(
            LastEventId::parse("é-1".as_bytes())
                .unwrap()
                .unwrap()
                .as_str(),
            "é-1"
        );
    }

    #[test]
    fn header_value_with_obs_text_is_not_utf8() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LAST_EVENT_ID,
            HeaderValue::from_bytes(b"\xe9t\xe9").unwrap(),
        );
        assert_eq!(
            LastEventId::from_headers(&headers),
            Err(LastEventIdError::NotUtf8)
        );
    }

    #[test]
    fn repeated_header_is_rejected() {
        let mut headers = HeaderMap::new();
        headers.append(LAST_EVENT_ID, HeaderValue::from_static("1"));
        headers.append(LAST_EVENT_ID, HeaderValue::from_static("2"));
        assert_eq!(
            LastEventId::from_headers(&headers),
            Err(LastEventIdError::Repeated)
        );
    }

    fn from_uri(uri: &str) -> Result<Option<LastEventId>, LastEventIdError> {
        LastEventId::from_request(&HeaderMap::new(), &uri.parse().unwrap())
    }

    #[test]
    fn query_parameter_is_decoded_and_checked() {
        assert_eq!(from_uri("/e").unwrap(), None);
        assert_eq!(from_uri("/e?topic=x").unwrap(), None);
        assert_eq!(
            from_uri("/e?last_event_id=x+y%21")
                .unwrap()
                .unwrap()
                .as_str(),
            "x y!"
        );
        assert_eq!(
            from_uri("/e?lastEventId=%zz%4").unwrap().unwrap().as_str(),
            "%zz%4"
        );
        assert_eq!(from_uri("/e?lastEventId=").unwrap(), None);
        assert_eq!(from_uri("/e?lastEventId").unwrap(), None);
        assert_eq!(
            from_uri("/e?lastEventId=%0A"),
            Err(LastEventIdError::ForbiddenCharacter)
        );
        assert_eq!(
            from_uri("/e?lastEventId=%00"),
            Err(LastEventIdError::ForbiddenCharacter)
        );
        assert_eq!(
            from_uri("/e?lastEventId=%FF"),
            Err(LastEventIdError::NotUtf8)
        );
        assert_eq!(
            from_uri("/e?lastEventId=1&last_event_id=2"),
            Err(LastEventIdError::Repeated)
        );
        let long = format!("/e?lastEventId={}", "%41".repeat(1025));
        assert!(matches!(
            from_uri(&long),
            Err(LastEventIdError::TooLong { .. })
        ));
        let very_long = format!("/e?lastEventId={}", "a".repeat(4000));
        assert!(matches!(
            from_uri(&very_long),
            Err(LastEventIdError::TooLong { len: 4000 })
        ));
    }

    #[test]
    fn the_header_wins_even_when_it_is_bad() {
        let mut headers = HeaderMap::new();
        headers.insert(LAST_EVENT_ID, HeaderValue::from_bytes(b"\xff").unwrap());
        let uri: Uri = "/e?lastEventId=ok".parse().unwrap();
        assert_eq!(
            LastEventId::from_request(&headers, &uri),
            Err(LastEventIdError::NotUtf8)
        );
    }

    #[test]
    fn converts_to_event_id() {
        let cursor = LastEventId::parse(b"7-12").unwrap().unwrap();
        assert_eq!(EventId::from(cursor).to_string(), "7-12");
    }
}
