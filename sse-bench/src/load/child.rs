//! A server under test, run as a child process of the driver: the same
//! executable, `sse-load serve --impl <name>`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::impls::Impl;
use super::server::Config;
use super::{Error, procfs};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The line a server prints once it listens, before its address.
pub const LISTENING: &str = "listening on ";

/// A running server process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Held open: the server exits when its standard input closes, so that
    /// it never outlives a driver that died.
    _stdin: Option<ChildStdin>,
    address: SocketAddr,
}

impl ServerProcess {
    /// Starts the `kind` server and waits until it listens.
    ///
    /// # Errors
    ///
    /// When the executable cannot be run, or the server does not report an
    /// address within 20 s.
    pub fn start(kind: Impl, config: Config) -> Result<Self, Error> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["serve", "--impl", kind.name()])
            .args([
                "--keep-alive-ms",
                &config.keep_alive.as_millis().to_string(),
            ])
            .args(["--workers", &config.workers.to_string()])
            .args(
                config
                    .stall_timeout
                    .map(|timeout| {
                        [
                            "--stall-timeout-ms".to_owned(),
                            timeout.as_millis().to_string(),
                        ]
                    })
                    .into_iter()
                    .flatten(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout from the server")?;
        let (sender, receiver) = mpsc::channel();
        // Read its first line on a thread, so that the wait has a timeout.
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(read.map(|_| line));
        });
        let mut server = Self {
            child,
            _stdin: stdin,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(error)) => return Err(format!("{kind}: cannot read its output: {error}").into()),
            Err(_) => {
                return Err(
                    format!("{kind}: did not start listening within {START_TIMEOUT:?}").into(),
                );
            }
        };
        server.address = line
            .trim()
            .strip_prefix(LISTENING)
            .and_then(|address| address.parse().ok())
            .ok_or_else(|| format!("{kind}: unexpected first line {line:?}"))?;
        Ok(server)
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its resident memory now, in bytes.
    ///
    /// # Errors
    ///
    /// When `/proc` cannot be read (the process has died).
    pub fn rss(&self) -> Result<u64, Error> {
        procfs::rss_bytes(self.child.id())
    }

    /// The CPU time it has used, in seconds.
    ///
    /// # Errors
    ///
    /// When `/proc` cannot be read (the process has died).
    pub fn cpu_seconds(&self) -> Result<f64, Error> {
        procfs::cpu_seconds(self.child.id())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // It may have exited already; either way it is gone afterwards.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
