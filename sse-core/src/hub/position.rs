//! [`Position`]: the id a hub gives an event, and the epoch that makes it
//! recognisable.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{EventId, wire};

/// Identifies one run of a hub (one process, or one shared store). Ids from
/// another epoch are recognised as foreign instead of being mistaken for
/// positions in this hub's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Epoch(u64);

impl Epoch {
    /// Ids are written with 48 bits of epoch: 12 hex digits.
    const MASK: u64 = (1 << 48) - 1;

    /// A new epoch, random for every hub.
    pub fn random() -> Self {
        // std's RandomState is seeded from the OS once per process and then
        // varied per instance: enough to tell runs apart, with no extra
        // dependency. The time guards against a seed reused across restarts.
        let mut hasher = RandomState::new().build_hasher();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        hasher.write_u128(nanos);
        Self::from_bits(hasher.finish())
    }

    /// An epoch from a number a store keeps (only its low 48 bits are used).
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits & Self::MASK)
    }

    /// The epoch's number.
    pub const fn bits(self) -> u64 {
        self.0
    }
}

/// Where an event sits in a hub: the hub's [`Epoch`] and a sequence number
/// that grows by one with every event published, across all topics. Written
/// as the event id `<epoch>-<seq>`, for example `0f3a9c01b7e4-42`.
///
/// ```
/// use sse_engine::hub::{Epoch, Position};
///
/// let position = Position::new(Epoch::from_bits(0xabc), 42);
/// assert_eq!(position.to_string(), "000000000abc-42");
/// assert_eq!(Position::parse("000000000abc-42"), Some(position));
/// assert_eq!(Position::parse("not-an-id"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    epoch: Epoch,
    seq: u64,
}

impl Position {
    /// The position of event number `seq` in `epoch`.
    pub const fn new(epoch: Epoch, seq: u64) -> Self {
        Self { epoch, seq }
    }

    /// The epoch.
    pub const fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The sequence number (the first event is 1; 0 is "before any event").
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// Reads `<12 hex digits>-<decimal>`; anything else is `None`.
    pub fn parse(id: &str) -> Option<Self> {
        let (epoch, seq) = wire::parse_position(id)?;
        Some(Self::new(Epoch::from_bits(epoch), seq))
    }

    /// The position as an event id.
    pub fn to_event_id(&self) -> EventId {
        EventId::position(self.epoch.0, self.seq)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_event_id(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_text() {
        for seq in [0, 1, 99, u64::MAX] {
            let position = Position::new(Epoch::random(), seq);
            assert_eq!(Position::parse(&position.to_string()), Some(position));
        }
    }

    #[test]
    fn epochs_differ_between_hubs() {
        assert_ne!(Epoch::random(), Epoch::random());
    }
}
