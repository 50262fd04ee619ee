//! Latency summaries: percentiles, and the points of a distribution plot.

use serde::Serialize;

/// Percentiles of a set of latencies, in microseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// The largest.
    pub max_us: f64,
    /// `(fraction, microseconds)`: the distribution at 200 points, for plots.
    pub cdf: Vec<(f64, f64)>,
}

impl Summary {
    /// Summarises `samples` (nanoseconds), sorting them.
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        let at = |fraction: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            // Nearest rank.
            let rank = (fraction * samples.len() as f64).ceil() as usize;
            samples[rank.clamp(1, samples.len()) - 1] as f64 / 1_000.0
        };
        let cdf = (1..=200)
            .map(|step| {
                // Denser toward the tail, where latencies differ the most.
                let fraction = 1.0 - 0.5f64.powf(f64::from(step) / 20.0);
                (fraction, at(fraction))
            })
            .collect();
        Self {
            count: samples.len(),
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            p999_us: at(0.999),
            max_us: at(1.0),
            cdf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut samples: Vec<u64> = (1..=1000).rev().map(|n| n * 1000).collect();
        let summary = Summary::of(&mut samples);
        assert_eq!(summary.count, 1000);
        assert_eq!(summary.p50_us, 500.0);
        assert_eq!(summary.p99_us, 990.0);
        assert_eq!(summary.max_us, 1000.0);
        assert!(Summary::of(&mut []).cdf.iter().all(|&(_, us)| us == 0.0));
    }
}
