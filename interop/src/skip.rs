//! [`skip_or_fail`]: what a test does when a real part it needs is missing.

use std::io::Write as _;

/// The variable naming a file that collects every skip of a run, so that
/// `cargo xtask test` can list them after all test binaries have run (a
/// skipped test otherwise shows as `ok`, its message hidden with its output).
pub const SKIPPED_LOG: &str = "SSE_SKIPPED_LOG";

/// `test` cannot run here because of `reason`: fails when the variable
/// `require` is `1` (CI sets it), and otherwise says so on standard error and
/// in the run's skip log, with `remedy` (how to get the missing part).
///
/// # Panics
///
/// When `require` is set to `1`.
pub fn skip_or_fail(test: &str, reason: &str, require: &str, remedy: &str) {
    assert!(
        std::env::var(require).as_deref() != Ok("1"),
        "{test}: {reason}, and {require}=1 requires it ({remedy})"
    );
    let line = format!("SKIPPED {test}: {reason} ({remedy})");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os(SKIPPED_LOG) {
        // Appends are whole lines (one write each), so concurrent test
        // binaries do not interleave them.
        if let Ok(mut log) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = log.write_all(format!("{line}\n").as_bytes());
        }
    }
}
