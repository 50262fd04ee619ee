//! `cargo xtask test [ARGS]`: runs `cargo test --workspace --all-features
//! [ARGS]`, then lists, at the very end of the output, every check that was
//! skipped because a real part it needs (Chromium, redis-server, the npm and
//! PyPI clients, the Python SDKs) is not installed here. Inside `cargo
//! test`, a skipped test shows as `ok` and its message is hidden with its
//! output; this list is where a run says what it did not check.
//!
//! ```text
//! cargo xtask test
//! ```

// A command-line tool: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

/// The variable the tests append their skips to (sse-interop's `SKIPPED_LOG`).
const SKIPPED_LOG: &str = "SSE_SKIPPED_LOG";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("test") {
        eprintln!("usage: cargo xtask test [cargo test arguments]");
        return ExitCode::FAILURE;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let log = target.join("sse-skipped.log");
    if let Err(error) = std::fs::create_dir_all(&target) {
        eprintln!("cannot create {}: {error}", target.display());
        return ExitCode::FAILURE;
    }
    let _ = std::fs::remove_file(&log);

    let child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["test", "--workspace", "--all-features"])
        .args(args)
        .env(SKIPPED_LOG, &log)
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            eprintln!("cannot run cargo test: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The test binaries' output passes through as it comes, and their
    // `test result:` lines are added up for the closing line.
    let mut totals = Totals::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            totals.add(&line);
        }
    }
    let status = match child.wait() {
        Ok(status) => status,
        Err(error) => {
            eprintln!("cargo test did not finish: {error}");
            return ExitCode::FAILURE;
        }
    };

    let skipped = std::fs::read_to_string(&log).unwrap_or_default();
    let mut lines: Vec<&str> = skipped.lines().collect();
    lines.sort_unstable();
    println!();
    if lines.is_empty() {
        println!("skipped: nothing; every real client, browser and server ran");
    } else {
        println!("skipped: {} checks, for lack of a real part:", lines.len());
        for line in &lines {
            println!("  {line}");
        }
    }
    println!(
        "tests: {} passed, {} failed, {} skipped",
        totals.passed,
        totals.failed,
        lines.len()
    );
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The sums of cargo's `test result: ok. 3 passed; 0 failed; ...` lines.
#[derive(Debug, Default)]
struct Totals {
    passed: u64,
    failed: u64,
}

impl Totals {
    fn add(&mut self, line: &str) {
        let Some(result) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in result.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Totals;

    #[test]
    fn adds_up_the_result_lines() {
        let mut totals = Totals::default();
        totals.add("test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        totals.add("test result: FAILED. 5 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s");
        totals.add("running 7 tests");
        assert_eq!((totals.passed, totals.failed), (8, 2));
    }
}
