//! What several test files share.

use std::sync::Once;

/// The variable that picks the round of a seeded test run: each value mixes
/// into every generator's seed, so that repeated runs with 1, 2, 3, ... try
/// other interleavings (`cargo xtask stress` does that); unset, 0.
pub(crate) const ROUND_VARIABLE: &str = "SSE_TEST_SEED";

/// The round, from [`ROUND_VARIABLE`]; printed once, so that a failure's
/// output says how to replay it.
pub(crate) fn round() -> u64 {
    static PRINTED: Once = Once::new();
    let round = std::env::var(ROUND_VARIABLE)
        .ok()
        .and_then(|round| round.parse().ok())
        .unwrap_or(0);
    // Test output, shown with a failure: it names the round to replay.
    #[allow(clippy::print_stderr)]
    PRINTED.call_once(|| eprintln!("{ROUND_VARIABLE}={round}"));
    round
}

/// xorshift64*: a small seeded generator, so that a failure can be replayed.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for `seed` in this run's [`round`] (never the all-zero
    /// state, which xorshift never leaves).
    pub(crate) fn seeded(seed: u64) -> Self {
        Self((seed ^ round().wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}
