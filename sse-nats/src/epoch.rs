//! The epoch of a stream: what makes its ids its own.
//!
//! The store that creates the stream picks a random epoch and writes it in
//! the stream's description (`sse hub log; epoch=0f3a9c01b7e4`): every
//! process that opens the stream reads the same one, on every node of a
//! cluster and across restarts, and a stream deleted and created again gets
//! a new one, so its ids never pass for the old stream's. A stream created
//! by someone else, without such a description, gets an epoch from its name
//! and creation time, which also changes when it is created again.

use sse_engine::hub::Epoch;

/// The description a new stream gets.
pub(crate) fn description(epoch: Epoch) -> String {
    format!("sse hub log; epoch={:012x}", epoch.bits())
}

/// The epoch a stream's description records, if it records one.
pub(crate) fn from_description(description: &str) -> Option<Epoch> {
    let (_, rest) = description.split_once("epoch=")?;
    let digits = rest.get(..12)?;
    let bits = u64::from_str_radix(digits, 16).ok()?;
    Some(Epoch::from_bits(bits))
}

/// The epoch of a stream without one in its description: a hash (FNV-1a,
/// stable across builds) of its name and creation time.
pub(crate) fn from_creation(name: &str, created_unix_nanos: i128) -> Epoch {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name
        .bytes()
        .chain([0])
        .chain(created_unix_nanos.to_le_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Epoch::from_bits(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_carries_the_epoch() {
        let epoch = Epoch::from_bits(0x0f3a_9c01_b7e4);
        assert_eq!(description(epoch), "sse hub log; epoch=0f3a9c01b7e4");
        assert_eq!(from_description(&description(epoch)), Some(epoch));
        assert_eq!(from_description("an operator's words"), None);
        assert_eq!(from_description("epoch=xyz"), None);
    }

    #[test]
    fn a_stream_created_again_has_another_epoch() {
        let first = from_creation("SSE", 1_700_000_000_000_000_000);
        assert_eq!(first, from_creation("SSE", 1_700_000_000_000_000_000));
        assert_ne!(first, from_creation("SSE", 1_700_000_000_000_000_001));
        assert_ne!(first, from_creation("SSE2", 1_700_000_000_000_000_000));
    }
}
