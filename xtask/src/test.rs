//! `cargo xtask test`: the whole suite, then what it skipped.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};

/// The variable the tests append their skips to (sse-interop's `SKIPPED_LOG`).
const SKIPPED_LOG: &str = "SSE_SKIPPED_LOG";

/// Runs the suite with `args` for `cargo test`; see the crate docs.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    // Absolute: the test binaries run in their own package's folder.
    let log = match std::path::absolute(target.join("sse-skipped.log")) {
        Ok(log) => log,
        Err(error) => {
            eprintln!("cannot place the skip log in {}: {error}", target.display());
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = std::fs::create_dir_all(&target) {
        eprintln!("cannot create {}: {error}", target.display());
        return ExitCode::FAILURE;
    }
    let _ = std::fs::remove_file(&log);

    // `-p NAME` narrows the run; `--workspace` would widen it back to all.
    let scope: &[&str] = if args
        .iter()
        .any(|arg| arg == "-p" || arg.starts_with("--package"))
    {
        &[]
    } else {
        &["--workspace"]
    };
    // Every test binary runs, even after one fails, so that the totals and
    // the skips cover the whole suite.
    let child = crate::cargo()
        .args(["test", "--all-features", "--no-fail-fast"])
        .args(scope)
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
        let mut stdout = BufReader::new(stdout);
        let mut raw = Vec::new();
        // Read to the end whatever the bytes: a test may print any.
        while matches!(stdout.read_until(b'\n', &mut raw), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            println!("{line}");
            totals.add(line);
            raw.clear();
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
    // A client missing for three matrix tests is one line, said three times.
    let mut lines: BTreeMap<&str, usize> = BTreeMap::new();
    for line in skipped.lines() {
        *lines.entry(line).or_default() += 1;
    }
    println!();
    if totals.results == 0 {
        println!("tests: nothing ran (cargo test failed before any test binary; see above)");
        return ExitCode::FAILURE;
    }
    if lines.is_empty() {
        println!("skipped: nothing; every real client, browser and server ran");
    } else {
        // A test that skipped a check still counts as passed above.
        println!("skipped, for lack of a real part (the tests that skipped them passed):");
        for (line, times) in &lines {
            match times {
                1 => println!("  {line}"),
                _ => println!("  {line} ({times} times)"),
            }
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
    results: u64,
    passed: u64,
    failed: u64,
}

impl Totals {
    fn add(&mut self, line: &str) {
        let Some(result) = line.strip_prefix("test result: ") else {
            return;
        };
        self.results += 1;
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
