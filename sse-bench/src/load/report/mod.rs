//! A whole run: its results, the problems found in them, and the tables.

use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

mod checks;
mod tables;

use super::impls::Impl;
use super::plan::Plan;
use super::scenario::churn::ChurnResult;
use super::scenario::fanout::FanoutResult;
use super::scenario::idle::IdleResult;
use super::scenario::slow::SlowResult;
use super::scenario::stalled::StalledResult;
use super::scenario::throughput::ThroughputResult;
use super::scenario::{churn, fanout, idle, slow, stalled, throughput};

/// One of the six scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Events to one client, as fast as possible.
    Throughput,
    /// Many clients, one publisher.
    Fanout,
    /// Idle connections.
    Idle,
    /// Connect and disconnect.
    Churn,
    /// One client stops reading.
    Slow,
    /// Many clients stop reading, against a stall timeout.
    Stalled,
}

impl Scenario {
    /// All six, in order.
    pub const ALL: [Scenario; 6] = [
        Scenario::Throughput,
        Scenario::Fanout,
        Scenario::Idle,
        Scenario::Churn,
        Scenario::Slow,
        Scenario::Stalled,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Throughput => "throughput",
            Scenario::Fanout => "fanout",
            Scenario::Idle => "idle",
            Scenario::Churn => "churn",
            Scenario::Slow => "slow",
            Scenario::Stalled => "stalled",
        }
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == name)
            .ok_or_else(|| format!("unknown scenario {name:?}"))
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The sizes used.
    pub plan: Plan,
    /// CPU, cores, memory.
    pub machine: String,
    /// When (UTC).
    pub date: String,
    /// The commit measured (`git describe --always --dirty`).
    pub commit: String,
    /// The command line.
    pub command: String,
    /// The implementations measured.
    pub implementations: Vec<Impl>,
    /// `/proc/loadavg` when the run started and when it ended: other work
    /// on the machine shows here.
    pub load_average: (String, String),
    /// Scenario 1.
    pub throughput: Vec<ThroughputResult>,
    /// Scenario 2.
    pub fanout: Vec<FanoutResult>,
    /// Scenario 3.
    pub idle: Vec<IdleResult>,
    /// Scenario 4.
    pub churn: Vec<ChurnResult>,
    /// Scenario 5.
    pub slow: Vec<SlowResult>,
    /// Scenario 6.
    pub stalled: Vec<StalledResult>,
    /// Events lost, failed connections, subscribers that stayed: anything
    /// that makes the run fail.
    pub problems: Vec<String>,
}

impl Results {
    /// Runs `scenarios` against `implementations`; `progress` hears of each
    /// step as it starts.
    pub fn run(
        plan: Plan,
        implementations: &[Impl],
        scenarios: &[Scenario],
        mut progress: impl FnMut(&str),
    ) -> Self {
        let mut results = Self {
            machine: super::procfs::machine(),
            date: command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            commit: command_output("git", &["describe", "--always", "--dirty"]),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            implementations: implementations.to_vec(),
            load_average: (load_average(), String::new()),
            throughput: Vec::new(),
            fanout: Vec::new(),
            idle: Vec::new(),
            churn: Vec::new(),
            slow: Vec::new(),
            stalled: Vec::new(),
            problems: Vec::new(),
            plan,
        };
        for &scenario in scenarios {
            let rounds = if scenario == Scenario::Fanout {
                results.plan.fanout.rounds.max(1)
            } else {
                1
            };
            for round in 0..rounds {
                for &kind in implementations {
                    if scenario != Scenario::Throughput
                        && scenario != Scenario::Idle
                        && !kind.publishes()
                    {
                        continue;
                    }
                    let note = if rounds > 1 {
                        format!(" (round {})", round + 1)
                    } else {
                        String::new()
                    };
                    progress(&format!("{} / {kind}{note}", scenario.name()));
                    results.run_one(scenario, kind, round);
                }
            }
        }
        results.load_average.1 = load_average();
        results.problems = checks::problems(&results);
        results
    }

    fn run_one(&mut self, scenario: Scenario, kind: Impl, round: usize) {
        let plan = &self.plan;
        match scenario {
            Scenario::Throughput => self.throughput.append(&mut throughput::run(kind, plan)),
            Scenario::Fanout => self.fanout.append(&mut fanout::run(kind, plan, round)),
            Scenario::Idle => self.idle.append(&mut idle::run(kind, plan)),
            Scenario::Churn => self.churn.push(churn::run(kind, plan)),
            Scenario::Slow => self.slow.push(slow::run(kind, plan)),
            Scenario::Stalled => self.stalled.push(stalled::run(kind, plan)),
        }
    }

    /// The results as Markdown tables, with ratios to the peers.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Machine: {}. Date: {}. Commit: {}. Plan: {}. Load average at the start: {}; at the end: {}.\n",
            self.machine,
            self.date,
            self.commit,
            self.plan.name,
            self.load_average.0,
            self.load_average.1
        );
        tables::throughput(&mut out, &self.throughput);
        tables::fanout(&mut out, &self.fanout);
        tables::idle(&mut out, &self.idle);
        tables::churn(&mut out, &self.churn);
        tables::slow(&mut out, &self.slow);
        tables::stalled(&mut out, &self.stalled);
        if self.problems.is_empty() {
            out.push_str("No problems: every event arrived, every connection opened, every subscriber left.\n");
        } else {
            out.push_str("Problems:\n\n");
            for problem in &self.problems {
                let _ = writeln!(out, "- {problem}");
            }
        }
        out
    }
}

/// The first line a command prints, or `unknown`.
fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The first three fields of `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}
