//! Stalling a server process the way a frozen machine would: `SIGSTOP`
//! keeps its sockets open and leaves every request unanswered.

use std::process::Command;
use std::time::{Duration, Instant};

/// Sends `kill -STOP` (`stop`) or `kill -CONT` to process `pid` and waits
/// until it took effect on every thread: `kill` returns once the signal is
/// sent, and each thread stops only when it is next scheduled, so a test
/// that sent its request at once could still be answered.
///
/// # Panics
///
/// When `kill` fails, or the threads have not all stopped (or resumed)
/// within 5 s.
pub fn stall(pid: u32, stop: bool) {
    let signal = if stop { "-STOP" } else { "-CONT" };
    let status = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while every_thread_stopped(pid) != stop {
        assert!(Instant::now() < deadline, "kill {signal} took effect");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether every thread of process `pid` is stopped (state `T` in
/// `/proc/<pid>/task/*/stat`).
fn every_thread_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            // The state follows the command name's closing parenthesis.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state == "T")
        })
    })
}
