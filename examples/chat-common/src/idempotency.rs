//! [`idempotency_key`]: the `Idempotency-Key` of a `POST /messages`, read
//! the same way by both chat servers.

use sse_engine::hub::PublishKey;

use crate::ChatError;

/// The key of a `POST /messages`, from the values of its `Idempotency-Key`
/// headers (as `PublishKey::from_header_values` reads them): `None` without
/// one.
///
/// ```
/// use example_chat_common::idempotency_key;
///
/// assert_eq!(idempotency_key([&b"msg-1"[..]]).unwrap().unwrap().as_str(), "msg-1");
/// assert_eq!(idempotency_key([]).unwrap(), None);
/// assert_eq!(idempotency_key([&b"has space"[..]]).unwrap_err().status, 400);
/// assert_eq!(idempotency_key([&b"a"[..], &b"b"[..]]).unwrap_err().status, 400);
/// ```
///
/// # Errors
///
/// `400` for a value that is not a key (empty, over 128 bytes, or not
/// visible ASCII), or more than one header.
pub fn idempotency_key<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<PublishKey>, ChatError> {
    PublishKey::from_header_values(values)
        .map_err(|error| ChatError::new(400, format!("bad Idempotency-Key header: {error}")))
}
