//! Random spread for reconnect delays and connection lifetimes, so that
//! clients told the same thing at the same moment do not all act in the same
//! second.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A duration between `base` and `base * (1 + spread)`, chosen at random.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::jitter::spread;
///
/// let delay = spread(Duration::from_secs(10), 0.5);
/// assert!(delay >= Duration::from_secs(10) && delay <= Duration::from_secs(15));
/// ```
pub fn spread(base: Duration, spread: f64) -> Duration {
    // A fresh RandomState is differently keyed each time: random enough to
    // spread reconnects, with no dependency.
    let bits = RandomState::new().build_hasher().finish();
    let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
    let factor = 1.0 + spread.max(0.0) * unit;
    // Saturates instead of panicking: `Duration::MAX` means "never". The
    // float may round a little below `base`; the promise is "not below".
    Duration::try_from_secs_f64(base.as_secs_f64() * factor)
        .unwrap_or(Duration::MAX)
        .max(base)
}

/// A duration between `base * (1 - spread)` and `base`, chosen at random: a
/// lifetime or deadline that must not be exceeded.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::jitter::shorten;
///
/// let lifetime = shorten(Duration::from_secs(100), 0.1);
/// assert!(lifetime >= Duration::from_secs(90) && lifetime <= Duration::from_secs(100));
/// ```
pub fn shorten(base: Duration, spread: f64) -> Duration {
    let extra = self::spread(base, spread.clamp(0.0, 1.0)).saturating_sub(base);
    base.saturating_sub(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_f64_cannot_hold_exactly_stay_in_range() {
        // Nanoseconds on a large number of seconds do not survive a round trip
        // through f64: the result must still be within the promised bounds.
        for secs in [1u64 << 33, 10_000_000_000, (1 << 52) + 1, u64::MAX / 2] {
            for nanos in [1, 123_456_789, 999_999_999] {
                let base = Duration::new(secs, nanos);
                assert!(spread(base, 0.0) >= base);
                assert!(spread(base, 0.5) >= base);
                assert!(shorten(base, 0.1) <= base);
                assert!(shorten(base, 0.0) <= base);
            }
        }
    }

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        assert_eq!(spread(Duration::MAX, 0.5), Duration::MAX);
        assert!(shorten(Duration::MAX, 0.1) <= Duration::MAX);
        assert_eq!(spread(Duration::ZERO, 0.5), Duration::ZERO);
    }

    #[test]
    fn stays_in_range_and_varies() {
        let base = Duration::from_secs(10);
        let picks: Vec<_> = (0..200).map(|_| spread(base, 0.5)).collect();
        assert!(picks.iter().all(|d| *d >= base && *d <= base.mul_f64(1.5)));
        let distinct: std::collections::HashSet<_> = picks.iter().collect();
        assert!(distinct.len() > 150, "{} distinct of 200", distinct.len());
    }
}
