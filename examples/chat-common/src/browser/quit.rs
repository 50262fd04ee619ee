//! Ending a test's browser: its WebDriver session deleted, its ChromeDriver
//! killed, and whatever is left of its Chromium killed too, so that no
//! browser outlives its test (a leaked one keeps reconnecting its pages and
//! takes CPU from the tests and benchmarks that follow).

use std::path::Path;
use std::time::Duration;

use super::Browser;

impl Drop for Browser {
    fn drop(&mut self) {
        // ChromeDriver closes the browser it started only when the session
        // is deleted: killed first, it would leave Chromium running (and
        // its pages reconnecting) after the test. Drop cannot await, so the
        // DELETE goes over a plain blocking connection, bounded in time.
        if !self.session.is_empty() {
            let _ = delete_session(&self.base, &self.session);
        }
        let _ = self.driver.start_kill();
        // A browser that took longer than that to quit (seen under CI's
        // load: two per run were left running) is killed by its profile.
        kill_leftovers(&self.profile.0);
    }
}

/// `DELETE /session/{id}` on the driver at `base` (`http://127.0.0.1:port`),
/// waiting up to 10 s for its answer (sent once the browser has quit).
/// ChromeDriver keeps the connection open after answering, whatever the
/// request's `Connection: close`: the answer ends with its `Content-Length`.
fn delete_session(base: &str, session: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};

    let address = base.trim_start_matches("http://");
    let mut connection = std::net::TcpStream::connect(address)?;
    connection.set_read_timeout(Some(Duration::from_secs(10)))?;
    connection.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        connection,
        "DELETE /session/{session} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let read = connection.read(&mut chunk)?;
        if read == 0 {
            return Ok(());
        }
        answer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&answer);
        if let Some(end_of_head) = text.find("\r\n\r\n") {
            let length = text[..end_of_head]
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= end_of_head + 4 + length {
                return Ok(());
            }
        }
    }
}

/// Kills every process started with `profile` as its `--user-data-dir`
/// (the browser and its helpers: the profile is unique to one test's
/// browser), and waits up to 5 s for them to be gone.
fn kill_leftovers(profile: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let pids = processes_using(profile);
        if pids.is_empty() || std::time::Instant::now() > deadline {
            return;
        }
        let _ = std::process::Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .status();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The processes started with `profile` as their `--user-data-dir`. Linux
/// only: elsewhere `/proc` is missing and there are none.
pub(crate) fn processes_using(profile: &Path) -> Vec<String> {
    let flag = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().into_string().ok()?;
            pid.parse::<u32>().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            cmdline
                .split(|byte| *byte == 0)
                .any(|arg| arg == flag.as_bytes())
                .then_some(pid)
        })
        .collect()
}
