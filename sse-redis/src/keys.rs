//! [`Keys`]: the Redis keys of one store, and the epoch its prefix gives.

use sse_engine::Text;
use sse_engine::hub::Epoch;

/// The keys of a store under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The last sequence number given.
    pub(crate) fn seq(&self) -> String {
        format!("{}seq", self.prefix)
    }

    /// The first sequence number of the store's current lifetime: what is
    /// older was lost (Redis was emptied) or never existed.
    pub(crate) fn since(&self) -> String {
        format!("{}since", self.prefix)
    }

    /// A stream with one entry per event, whatever its topics: the feed reads
    /// it to know how far the sequence has gone.
    pub(crate) fn all(&self) -> String {
        format!("{}all", self.prefix)
    }

    /// The ranges of sequence numbers a rollback lost (Redis restarted from
    /// an older copy of its data), recorded by a reader that had read them:
    /// a sorted set of `<last kept>:<last lost>` by the last lost.
    pub(crate) fn holes(&self) -> String {
        format!("{}holes", self.prefix)
    }

    /// The key of one append, to store it once however often it is sent.
    pub(crate) fn append(&self, token: &str) -> String {
        format!("{}append:{token}", self.prefix)
    }

    /// The key of a publish key the caller gave, to store its publish once
    /// within the window. Its own space: `append:` keys hold the store's
    /// own tokens.
    pub(crate) fn publish_key(&self, key: &str) -> String {
        format!("{}publish-key:{key}", self.prefix)
    }

    /// The stream of one topic.
    pub(crate) fn topic(&self, topic: &str) -> String {
        format!("{}topic:{topic}", self.prefix)
    }

    /// The topic a key of [`Keys::topic`] names.
    pub(crate) fn topic_of(&self, key: &[u8]) -> Option<Text> {
        let name = key
            .strip_prefix(self.prefix.as_bytes())?
            .strip_prefix(b"topic:")?;
        std::str::from_utf8(name).ok().map(Text::copy_from)
    }

    /// The epoch of every id under this prefix: the same in every process,
    /// so that any of them recognises the others' ids, and different for
    /// another prefix. (FNV-1a: stable across builds and platforms.)
    pub(crate) fn epoch(&self) -> Epoch {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.prefix.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Epoch::from_bits(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_the_epoch_follows_the_prefix() {
        let keys = Keys::new("app:");
        assert_eq!(keys.topic("chat:room-1"), "app:topic:chat:room-1");
        assert_eq!(
            keys.topic_of(b"app:topic:chat:room-1").as_deref(),
            Some("chat:room-1")
        );
        assert_eq!(keys.topic_of(b"other:topic:x"), None);
        assert_eq!(keys.epoch(), Keys::new("app:").epoch());
        assert_ne!(keys.publish_key("k"), keys.append("k"));
        assert_ne!(keys.epoch(), Keys::new("app2:").epoch());
    }
}
