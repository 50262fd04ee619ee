//! Random spread for reconnect delays and connection lifetimes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A duration between `base` and `base * (1 + spread)`, chosen at random, so
/// that clients told the same thing at once do not all act in the same second.
pub(crate) fn spread(base: Duration, spread: f64) -> Duration {
    // A fresh RandomState is differently keyed each time: random enough to
    // spread reconnects, with no dependency.
    let bits = RandomState::new().build_hasher().finish();
    let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(1.0 + spread * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_varies() {
        let base = Duration::from_secs(10);
        let picks: Vec<_> = (0..200).map(|_| spread(base, 0.5)).collect();
        assert!(picks.iter().all(|d| *d >= base && *d <= base.mul_f64(1.5)));
        let distinct: std::collections::HashSet<_> = picks.iter().collect();
        assert!(distinct.len() > 150, "{} distinct of 200", distinct.len());
    }
}
