//! The epoch of a stream: what makes its ids its own.
//!
//! The store that creates the stream picks a random epoch and writes it in
//! the stream's description (`sse hub log; epoch=0f3a9c01b7e4`): every
//! process that opens the stream reads the same one, on every node of a
//! cluster and across restarts, and a stream deleted and created again gets
//! a new one, so its ids never pass for the old stream's. The epoch is also
//! in every subject of the stream (see `subject.rs`).

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
}
