//! `cargo xtask stress [ROUNDS]`: the hub's concurrency tests, round after
//! round, each with other interleavings.
//!
//! The tests draw their random choices (when to stall, reconnect, move to
//! another task, which topics to publish to) from generators seeded with
//! `SSE_TEST_SEED` mixed in (sse-engine's `tests/support`); each round sets
//! it to the round's number. They run in release, where the races they look
//! for are likeliest.

use std::process::ExitCode;

/// The test binaries of sse-engine that race publishers, readers, feeds and
/// stores against each other.
const TESTS: [&str; 4] = ["hub_concurrency", "hub_feed", "hub_fed", "hub_tail"];

/// Runs `rounds` (30 unless given) rounds; fails at the first failing one.
pub(crate) fn run(rounds: Option<&str>) -> ExitCode {
    let rounds: u64 = match rounds.map(str::parse).transpose() {
        Ok(rounds) => rounds.unwrap_or(30),
        Err(error) => {
            eprintln!("rounds: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut args = vec!["test", "--release", "-p", "sse-engine"];
    for test in TESTS {
        args.extend(["--test", test]);
    }
    for round in 1..=rounds {
        let status = crate::cargo()
            .args(&args)
            .arg("--quiet")
            .env("SSE_TEST_SEED", round.to_string())
            .status();
        match status {
            Ok(status) if status.success() => println!("stress: round {round} of {rounds} passed"),
            Ok(_) => {
                println!(
                    "stress: round {round} failed; replay it with SSE_TEST_SEED={round} cargo {}",
                    args.join(" ")
                );
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("cannot run cargo test: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "stress: {rounds} rounds in a row passed ({})",
        TESTS.join(", ")
    );
    ExitCode::SUCCESS
}
