//! Interleaved rounds: every implementation timed on the same workload in
//! each round, and compared only within the round.
//!
//! This machine's speed drifts, by up to 1.8× between processes and from one
//! second to the next, more while others compile on it. A benchmark that
//! times one library for a few seconds and then the next measures that drift
//! as much as the code. So every benchmark of this crate runs in rounds: a
//! round runs each contender once (a sample of one or more runs of its
//! workload), in an order that changes from round to round, and divides each
//! contender's time by the baseline's time *of the same round*. The report
//! gives the median of those within-round ratios with their spread
//! (interquartile range and min–max), beside each contender's median time
//! and, when the benchmark counts them, its heap allocations. A workload
//! that runs on the measuring thread alone is timed by that thread's CPU
//! time ([`Clock::ThreadCpu`]), so that the time it waited while other
//! processes ran is not counted either.
//!
//! ```
//! use std::hint::black_box;
//! use sse_bench::rounds::{Config, Contender, Workload};
//!
//! let report = Workload::new("sum of 1,000 numbers", "number")
//!     .contender(Contender::new("formula", 1_000, || black_box(999u64) * 1_000 / 2))
//!     .contender(Contender::new("loop", 1_000, || (0..black_box(1_000u64)).sum()))
//!     .run(&Config::smoke());
//! assert_eq!(report.rows().len(), 2);
//! let markdown = report.to_string(); // a heading and a table
//! # assert!(markdown.contains("| loop |"));
//! ```
//!
//! [`Config::from_args`] reads the command line the way `cargo bench` and
//! `cargo test --benches` call a bench binary: with `--bench`, the full
//! measurement; without it (the test run), one round of one run per
//! contender, which only checks that the benchmark still works. Other
//! arguments select workloads by name.

use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use cpu_time::ThreadTime;

mod report;
#[cfg(test)]
mod tests;

pub use report::{Report, Row};

/// What a sample's time is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time ([`Instant`]): for a workload that runs on several
    /// threads or waits for another process.
    Wall,
    /// The CPU time of the measuring thread (`CLOCK_THREAD_CPUTIME_ID`):
    /// for a workload that runs entirely on that thread (a current-thread
    /// tokio runtime). The time the thread waited while other processes ran
    /// is left out, so the samples stay comparable on a busy machine; a
    /// slower machine while it runs is not, which is what the rounds are
    /// for.
    ThreadCpu,
}

/// How a benchmark runs its rounds.
#[derive(Debug, Clone)]
pub struct Config {
    full: bool,
    rounds: usize,
    sample_time: Duration,
    clock: Clock,
    filter: Vec<String>,
    allocations: Option<fn() -> u64>,
}

impl Config {
    /// Rounds of a full measurement unless `SSE_BENCH_ROUNDS` says otherwise:
    /// a multiple of 2 and of 6, so that with two or three contenders every
    /// order is run equally often.
    pub const DEFAULT_ROUNDS: usize = 24;

    /// Time a sample lasts at least, unless `SSE_BENCH_SAMPLE_MS` says
    /// otherwise: a workload faster than this is run several times per
    /// sample. Short, so that the contenders of a round see the same machine.
    pub const DEFAULT_SAMPLE_TIME: Duration = Duration::from_millis(20);

    /// From the command line: `--bench` (what `cargo bench` passes) asks for
    /// the full measurement, [`Config::DEFAULT_ROUNDS`] rounds (or
    /// `SSE_BENCH_ROUNDS`); without it, one round of one run each, as
    /// [`Config::smoke`]. Arguments that are not flags select the workloads
    /// whose name contains one of them.
    ///
    /// # Panics
    ///
    /// When `SSE_BENCH_ROUNDS` or `SSE_BENCH_SAMPLE_MS` is set but not a
    /// number.
    pub fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let full = args.iter().any(|arg| arg == "--bench");
        let mut config = if full {
            let rounds = env_number("SSE_BENCH_ROUNDS").unwrap_or(Self::DEFAULT_ROUNDS as u64);
            let sample_time = env_number("SSE_BENCH_SAMPLE_MS")
                .map_or(Self::DEFAULT_SAMPLE_TIME, Duration::from_millis);
            Self {
                full: true,
                rounds: usize::try_from(rounds).unwrap_or(usize::MAX).max(1),
                sample_time,
                clock: Clock::Wall,
                filter: Vec::new(),
                allocations: None,
            }
        } else {
            Self::smoke()
        };
        config.filter = args
            .into_iter()
            .filter(|arg| !arg.starts_with('-'))
            .collect();
        config
    }

    /// One round, one run of each contender, no warm-up: only checks that a
    /// benchmark works (the test run, `cargo test --benches`).
    pub fn smoke() -> Self {
        Self {
            full: false,
            rounds: 1,
            sample_time: Duration::ZERO,
            clock: Clock::Wall,
            filter: Vec::new(),
            allocations: None,
        }
    }

    /// Whether this is the full measurement: benchmarks pick their real
    /// sizes then, and tiny ones otherwise.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Sets the number of rounds (at least one).
    #[must_use]
    pub fn rounds(mut self, rounds: usize) -> Self {
        self.rounds = rounds.max(1);
        self
    }

    /// Sets the clock samples are timed with ([`Clock::Wall`] unless set).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Counts heap allocations with `counter`, a running total of them (a
    /// counting global allocator's): each sample's allocations are reported
    /// per element.
    #[must_use]
    pub fn count_allocations(mut self, counter: fn() -> u64) -> Self {
        self.allocations = Some(counter);
        self
    }

    /// Whether the workload `name` was selected on the command line (every
    /// workload is when nothing was).
    pub fn selects(&self, name: &str) -> bool {
        self.filter.is_empty() || self.filter.iter().any(|part| name.contains(part.as_str()))
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
    )
}

/// One implementation of a workload: `run` does the workload once.
pub struct Contender<'a> {
    name: String,
    elements: u64,
    run: Run<'a>,
}

enum Run<'a> {
    /// Timed by the rounds; returns what it produced.
    Timed(Box<dyn FnMut() -> u64 + 'a>),
    /// Returns its own measure.
    SelfTimed(Box<dyn FnMut() -> Duration + 'a>),
}

impl fmt::Debug for Contender<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contender")
            .field("name", &self.name)
            .field("elements", &self.elements)
            .finish_non_exhaustive()
    }
}

impl<'a> Contender<'a> {
    /// `run` does `elements` units of work (events, subscribers, requests)
    /// once and returns what it produced (bytes, say), which the report
    /// gives per element and which keeps the work from being optimised
    /// away.
    pub fn new(name: impl Into<String>, elements: u64, run: impl FnMut() -> u64 + 'a) -> Self {
        Self {
            name: name.into(),
            elements: elements.max(1),
            run: Run::Timed(Box::new(run)),
        }
    }

    /// A contender that measures itself: the sample's time is what `run`
    /// returns (one round's median latency, say), one run per sample, with
    /// no warm-up. Its ratio to the baseline is taken within each round too.
    pub fn self_timed(name: impl Into<String>, run: impl FnMut() -> Duration + 'a) -> Self {
        Self {
            name: name.into(),
            elements: 1,
            run: Run::SelfTimed(Box::new(run)),
        }
    }
}

/// A workload and its contenders; the first is the baseline every other is
/// divided by.
#[derive(Debug)]
pub struct Workload<'a> {
    name: String,
    element: String,
    output: Option<String>,
    contenders: Vec<Contender<'a>>,
}

impl<'a> Workload<'a> {
    /// A workload named `name`, whose unit of work is one `element` (for
    /// "events/s", "per event").
    pub fn new(name: impl Into<String>, element: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            element: element.into(),
            output: None,
            contenders: Vec::new(),
        }
    }

    /// Names what the contenders' runs return (`"bytes"`): the report then
    /// gives it per element.
    #[must_use]
    pub fn output(mut self, unit: impl Into<String>) -> Self {
        self.output = Some(unit.into());
        self
    }

    /// Adds a contender; the first one added is the baseline.
    #[must_use]
    pub fn contender(mut self, contender: Contender<'a>) -> Self {
        self.contenders.push(contender);
        self
    }

    /// Runs the rounds: first, unless this is a smoke run, a warm-up that
    /// finds how many runs make each contender's sample last the sample
    /// time ([`Config::DEFAULT_SAMPLE_TIME`]); then each round samples every
    /// contender once, in the order [`round_order`] gives.
    ///
    /// # Panics
    ///
    /// When the workload has no contender.
    pub fn run(mut self, config: &Config) -> Report {
        assert!(!self.contenders.is_empty(), "a workload needs a contender");
        let count = self.contenders.len();
        let runs: Vec<u64> = self
            .contenders
            .iter_mut()
            .map(|contender| calibrate(contender, config.sample_time))
            .collect();
        let mut samples = vec![Vec::with_capacity(config.rounds); count];
        for round in 0..config.rounds {
            for index in round_order(count, round) {
                let sample = take_sample(&mut self.contenders[index], runs[index], config);
                samples[index].push(sample);
            }
        }
        let per_element = |index: usize, sample: &Sample| {
            sample.time.as_secs_f64()
                / (sample.runs as f64 * self.contenders[index].elements as f64)
        };
        let rows = self
            .contenders
            .iter()
            .enumerate()
            .map(|(index, contender)| {
                let times: Vec<f64> = samples[index]
                    .iter()
                    .map(|sample| sample.time.as_secs_f64() / sample.runs as f64)
                    .collect();
                let ratios: Vec<f64> = samples[index]
                    .iter()
                    .zip(&samples[0])
                    .map(|(sample, base)| per_element(index, sample) / per_element(0, base))
                    .collect();
                let differences: Vec<f64> = samples[index]
                    .iter()
                    .zip(&samples[0])
                    .map(|(sample, base)| {
                        sample.time.as_secs_f64() / sample.runs as f64
                            - base.time.as_secs_f64() / base.runs as f64
                    })
                    .collect();
                let allocations: Option<Vec<f64>> = samples[index]
                    .iter()
                    .map(|sample| {
                        sample.allocations.map(|allocations| {
                            allocations as f64 / (sample.runs as f64 * contender.elements as f64)
                        })
                    })
                    .collect();
                Row {
                    name: contender.name.clone(),
                    elements: contender.elements,
                    runs_per_sample: runs[index],
                    time: Spread::of(&times).expect("at least one round"),
                    ratio: (index > 0).then(|| Spread::of(&ratios).expect("at least one round")),
                    difference: (index > 0)
                        .then(|| Spread::of(&differences).expect("at least one round")),
                    allocations_per_element: allocations
                        .and_then(|allocations| Spread::of(&allocations))
                        .map(|spread| spread.median),
                    output_per_element: samples[index]
                        .last()
                        .map(|sample| sample.output as f64 / contender.elements as f64),
                    self_timed: matches!(contender.run, Run::SelfTimed(_)),
                }
            })
            .collect();
        let shares: Vec<f64> = samples
            .iter()
            .flatten()
            .filter(|sample| !sample.wall.is_zero())
            .map(|sample| sample.time.as_secs_f64() / sample.wall.as_secs_f64())
            .collect();
        let on_cpu = (config.clock == Clock::ThreadCpu)
            .then(|| Spread::of(&shares))
            .flatten();
        Report {
            name: self.name,
            element: self.element,
            output: self.output,
            rounds: config.rounds,
            on_cpu,
            show_difference: false,
            rows,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    /// By the configured clock.
    time: Duration,
    /// Wall-clock time, to tell how much of it the thread was on a CPU.
    wall: Duration,
    runs: u64,
    allocations: Option<u64>,
    output: u64,
}

fn take_sample(contender: &mut Contender<'_>, runs: u64, config: &Config) -> Sample {
    let before = config.allocations.map(|count| count());
    let mut output = 0;
    let (time, wall) = match &mut contender.run {
        Run::Timed(run) => {
            let cpu = ThreadTime::now();
            let started = Instant::now();
            for _ in 0..runs {
                output = black_box(run());
            }
            let wall = started.elapsed();
            let cpu = cpu.elapsed();
            match config.clock {
                Clock::Wall => (wall, wall),
                Clock::ThreadCpu => (cpu, wall),
            }
        }
        Run::SelfTimed(run) => {
            let time = (0..runs).map(|_| run()).sum();
            (time, time)
        }
    };
    let allocations = config
        .allocations
        .zip(before)
        .map(|(count, before)| count().saturating_sub(before));
    Sample {
        time,
        wall,
        runs,
        allocations,
        output,
    }
}

/// How many runs make a sample last `sample_time`: doubles from one (these
/// runs are the contender's warm-up). One, without running, for a smoke run.
/// A self-timed contender runs once per sample, and is not warmed up.
fn calibrate(contender: &mut Contender<'_>, sample_time: Duration) -> u64 {
    let Run::Timed(run) = &mut contender.run else {
        return 1;
    };
    if sample_time.is_zero() {
        return 1;
    }
    let mut runs = 1u64;
    loop {
        let started = Instant::now();
        for _ in 0..runs {
            black_box(run());
        }
        let elapsed = started.elapsed();
        if elapsed >= sample_time / 2 || runs >= 1 << 30 {
            // Scaled from the last, longest try.
            let per_run = elapsed.as_secs_f64() / runs as f64;
            let wanted = (sample_time.as_secs_f64() / per_run.max(1e-9)).ceil();
            return (wanted as u64).max(1);
        }
        runs *= 2;
    }
}

/// The order in which the contenders run in round `round`: the round's
/// permutation of `0..count`, cycling through all `count!` of them, so that
/// over a multiple of `count!` rounds each contender runs in each place
/// equally often, and after each other contender equally often.
pub fn round_order(count: usize, round: usize) -> Vec<usize> {
    let mut left: Vec<usize> = (0..count).collect();
    let permutations = (1..=count as u64).try_fold(1u64, u64::checked_mul);
    let mut code = match permutations {
        Some(permutations) => round as u64 % permutations,
        None => round as u64,
    };
    let mut order = Vec::with_capacity(count);
    for base in (1..=count as u64).rev() {
        let index = (code % base) as usize;
        code /= base;
        order.push(left.remove(index));
    }
    order
}

/// The distribution of a set of measurements: minimum, quartiles, maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The smallest value.
    pub min: f64,
    /// The first quartile.
    pub q1: f64,
    /// The median.
    pub median: f64,
    /// The third quartile.
    pub q3: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`, `None` when there are none. Quartiles are
    /// interpolated between the two nearest values (the method of
    /// spreadsheets and numpy's default): the median of an even count is
    /// the mean of the middle two.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            let position = q * (sorted.len() - 1) as f64;
            let below = position.floor() as usize;
            let above = position.ceil() as usize;
            let weight = position - below as f64;
            sorted[below] + (sorted[above] - sorted[below]) * weight
        };
        Some(Self {
            min: *sorted.first()?,
            q1: quantile(0.25),
            median: quantile(0.5),
            q3: quantile(0.75),
            max: *sorted.last()?,
        })
    }
}
