//! The workspace's own commands.
//!
//! `cargo xtask test [ARGS]`: runs `cargo test --workspace --all-features
//! --no-fail-fast [ARGS]` (without `--workspace` when ARGS name a package
//! with `-p`), then lists, at the very end of the output, every check that was
//! skipped because a real part it needs (Chromium, redis-server, the npm and
//! PyPI clients, the Python SDKs) is not installed here. Inside `cargo
//! test`, a skipped test shows as `ok` and its message is hidden with its
//! output; this list is where a run says what it did not check.
//!
//! `cargo xtask stress [ROUNDS]`: runs the hub's concurrency tests in release
//! ROUNDS times (30 unless given), each round with other random interleavings,
//! and stops at the first failure, naming its round.
//!
//! `cargo xtask layout`: no library source file over 500 lines, and no two
//! that import each other, directly or in a ring (see `layout.rs`).
//!
//! ```text
//! cargo xtask test
//! cargo xtask stress 30
//! cargo xtask layout
//! ```

// A command-line tool: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod layout;
mod stress;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") => test::run(&args.collect::<Vec<_>>()),
        Some("stress") => stress::run(args.next().as_deref()),
        Some("layout") => layout::run(),
        _ => {
            eprintln!("usage: cargo xtask test [cargo test arguments]");
            eprintln!("       cargo xtask stress [rounds]");
            eprintln!("       cargo xtask layout");
            ExitCode::FAILURE
        }
    }
}

/// The cargo that runs this command, to run others.
fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
