//! [`Subjects`]: the NATS subjects of one store, and how a topic name becomes
//! one subject token.
//!
//! A topic may hold any text, a subject token may not (no `.`, `*`, `>` or
//! whitespace, and nothing that some tools choke on), so topics are encoded:
//! ASCII letters, digits and `-` stay as they are; every other byte,
//! `_` included, is written `_` and two upper-case hex digits; the empty
//! topic is `_` alone. The encoding is one-to-one, so a token always names
//! one topic back.

use sse_engine::Text;
use sse_engine::hub::Epoch;

/// The subjects of one stream: under `<prefix>.<epoch as 12 hex digits>`,
/// so that a process still holding an old stream's epoch can never publish
/// into a stream created again under the same name (no stream captures its
/// subjects: the publish fails).
#[derive(Debug, Clone)]
pub(crate) struct Subjects {
    prefix: String,
}

impl Subjects {
    pub(crate) fn new(prefix: &str, epoch: Epoch) -> Self {
        Self {
            prefix: format!("{prefix}.{:012x}", epoch.bits()),
        }
    }

    /// What the stream captures: every subject under the prefix.
    pub(crate) fn all(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// The subject of an event in one topic.
    pub(crate) fn topic(&self, topic: &str) -> String {
        format!("{}.t.{}", self.prefix, encode(topic))
    }

    /// The subject of every event in several topics (their names are in the
    /// [`TOPICS`] header).
    pub(crate) fn multi(&self) -> String {
        format!("{}.m", self.prefix)
    }
}

/// The header that names an event's topics: their tokens, separated by
/// spaces. Present on every event, whatever its subject.
pub(crate) const TOPICS: &str = "Sse-Topics";

/// The header of a keyed publish that names the call that sent it (the
/// store's own id for the call), so that a duplicate one of its attempts
/// stored is told apart from an earlier publish under the same key.
pub(crate) const SENT_BY: &str = "Sse-Sent-By";

/// The subject token of a topic.
pub(crate) fn encode(topic: &str) -> String {
    if topic.is_empty() {
        return "_".to_owned();
    }
    let mut token = String::with_capacity(topic.len());
    for byte in topic.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            token.push(char::from(byte));
        } else {
            token.push('_');
            token.push_str(&format!("{byte:02X}"));
        }
    }
    token
}

/// The topic a token of [`encode`] names; `None` for anything else.
pub(crate) fn decode(token: &str) -> Option<Text> {
    if token == "_" {
        return Some(Text::copy_from(""));
    }
    let mut bytes = Vec::with_capacity(token.len());
    let mut rest = token.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'_' {
            let hex = tail.get(..2)?;
            // Upper-case hex digits only, so that a topic has one spelling
            // (`from_str_radix` alone would take `+A` or `0a`).
            if !hex
                .iter()
                .all(|digit| matches!(digit, b'0'..=b'9' | b'A'..=b'F'))
            {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else if first.is_ascii_alphanumeric() || first == b'-' {
            bytes.push(first);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok().map(Text::from)
}

/// The topics a [`TOPICS`] header value names.
pub(crate) fn decode_all(value: &str) -> Option<Vec<Text>> {
    value.split(' ').map(decode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_tokens() {
        for topic in [
            "chat",
            "chat:room-1",
            "a.b.*.>",
            "with space\r\n",
            "_5F",
            "é",
            "",
            "UPPER-lower-09",
        ] {
            let token = encode(topic);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{token}"
            );
            assert_eq!(decode(&token).as_deref(), Some(topic), "{token}");
        }
        assert_eq!(encode("chat:room-1"), "chat_3Aroom-1");
        assert_eq!(encode("a_b"), "a_5Fb");
        assert_eq!(decode("a_5f"), None, "one spelling per topic");
        assert_eq!(decode("_+A"), None, "a sign is no hex digit");
        assert_eq!(decode("a.b"), None);
        assert_eq!(decode("a_4"), None);
        assert_eq!(decode("_FF"), None, "not UTF-8");
    }

    #[test]
    fn subjects_sit_under_the_prefix() {
        let subjects = Subjects::new("sse.app", Epoch::from_bits(0xabc));
        assert_eq!(subjects.all(), "sse.app.000000000abc.>");
        assert_eq!(subjects.topic("news"), "sse.app.000000000abc.t.news");
        assert_eq!(subjects.multi(), "sse.app.000000000abc.m");
        let names = decode_all("a b_3A").unwrap();
        assert_eq!(names.iter().map(|t| &**t).collect::<Vec<_>>(), ["a", "b:"]);
    }
}
