//! Stream entries out of Redis replies (`XRANGE`, `XREAD`), in either
//! protocol version.

use bytes::Bytes;
use redis::Value;

/// One stream entry, with the fields this crate writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamEntry {
    /// The sequence number of its id (`<epoch>-<seq>`).
    pub(crate) seq: u64,
    /// The event (`e`; absent in the `all` stream).
    pub(crate) event: Option<Bytes>,
    /// The previous sequence number in the same stream (`p`).
    pub(crate) prev: u64,
    /// The start of the store's lifetime when it was written (`l`).
    pub(crate) lifetime: u64,
}

/// A reply that is not shaped like a stream's.
#[derive(Debug)]
pub(crate) struct Malformed(pub(crate) &'static str);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unexpected reply from Redis: {}", self.0)
    }
}

impl std::error::Error for Malformed {}

/// The entries of an `XRANGE` reply.
pub(crate) fn entries(value: Value) -> Result<Vec<StreamEntry>, Malformed> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(entry).collect(),
        _ => Err(Malformed("a stream range is not an array")),
    }
}

/// A replay round's reply: how far it is complete and its entries, or
/// `None` (the script's `false`) when the range is not all there.
pub(crate) fn round(value: Value) -> Result<Option<(u64, Vec<StreamEntry>)>, Malformed> {
    let items = match value {
        Value::Nil | Value::Boolean(false) => return Ok(None),
        Value::Array(items) if items.len() == 2 => items,
        _ => return Err(Malformed("a replay round is not a position and entries")),
    };
    let mut items = items.into_iter();
    let (Some(complete), Some(found)) = (items.next(), items.next()) else {
        return Err(Malformed("a replay round is not a position and entries"));
    };
    let complete = number(&bytes_of(complete)?)?;
    Ok(Some((complete, entries(found)?)))
}

/// A stream's key and the entries read from it.
pub(crate) type StreamRead = (Vec<u8>, Vec<StreamEntry>);

/// The streams of an `XREAD` reply, each with its entries (none on timeout).
pub(crate) fn streams(value: Value) -> Result<Vec<StreamRead>, Malformed> {
    let pairs: Vec<(Value, Value)> = match value {
        Value::Nil => return Ok(Vec::new()),
        Value::Map(pairs) => pairs,
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => {
                    let mut pair = pair.into_iter();
                    match (pair.next(), pair.next()) {
                        (Some(key), Some(entries)) => Ok((key, entries)),
                        _ => Err(Malformed("a stream is not a key and entries")),
                    }
                }
                _ => Err(Malformed("a stream is not a key and entries")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(Malformed("a read is not an array or a map")),
    };
    pairs
        .into_iter()
        .map(|(key, entries_value)| Ok((bytes_of(key)?, entries(entries_value)?)))
        .collect()
}

fn entry(value: Value) -> Result<StreamEntry, Malformed> {
    let Value::Array(parts) = value else {
        return Err(Malformed("an entry is not an array"));
    };
    let mut parts = parts.into_iter();
    let (Some(id), Some(fields)) = (parts.next(), parts.next()) else {
        return Err(Malformed("an entry has no id or fields"));
    };
    let id = bytes_of(id)?;
    let seq = seq_of_id(&id).ok_or(Malformed("an entry id is not <epoch>-<seq>"))?;
    let fields: Vec<Value> = match fields {
        Value::Array(fields) => fields,
        Value::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => return Err(Malformed("entry fields are not an array")),
    };
    let mut entry = StreamEntry {
        seq,
        event: None,
        prev: 0,
        lifetime: 0,
    };
    let mut fields = fields.into_iter();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        let value = bytes_of(value)?;
        match bytes_of(name)?.as_slice() {
            b"e" => entry.event = Some(Bytes::from(value)),
            b"p" => entry.prev = number(&value)?,
            b"l" => entry.lifetime = number(&value)?,
            _ => {}
        }
    }
    Ok(entry)
}

/// The sequence number of a stream id `<epoch>-<seq>`.
pub(crate) fn seq_of_id(id: &[u8]) -> Option<u64> {
    let dash = id.iter().position(|&b| b == b'-')?;
    std::str::from_utf8(&id[dash + 1..]).ok()?.parse().ok()
}

fn number(value: &[u8]) -> Result<u64, Malformed> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(Malformed("a number field is not a number"))
}

pub(crate) fn bytes_of(value: Value) -> Result<Vec<u8>, Malformed> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.into_bytes()),
        Value::Int(number) => Ok(number.to_string().into_bytes()),
        _ => Err(Malformed("a string was expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn reads_entries_in_both_protocols_and_refuses_other_shapes() {
        let fields = Value::Array(vec![
            bulk("e"),
            bulk("data: x\n\n"),
            bulk("p"),
            bulk("7"),
            bulk("l"),
            bulk("3"),
        ]);
        let one = Value::Array(vec![bulk("12-9"), fields]);
        let expected = StreamEntry {
            seq: 9,
            event: Some(Bytes::from_static(b"data: x\n\n")),
            prev: 7,
            lifetime: 3,
        };
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![one.clone()]),
        ])]);
        assert_eq!(
            streams(resp2).unwrap(),
            [(b"k".to_vec(), vec![expected.clone()])]
        );
        let resp3 = Value::Map(vec![(bulk("k"), Value::Array(vec![one]))]);
        assert_eq!(streams(resp3).unwrap(), [(b"k".to_vec(), vec![expected])]);
        assert!(streams(Value::Nil).unwrap().is_empty());
        assert!(entries(Value::Int(3)).is_err());
        assert!(
            entries(Value::Array(vec![Value::Array(vec![bulk(
                "no-dash-number-x"
            )])]))
            .is_err()
        );
        assert_eq!(
            seq_of_id(b"48879-1763822400123456"),
            Some(1_763_822_400_123_456)
        );
    }
}
