//! Releasing the connection of a client that stopped reading.
//!
//! A client that stops reading (a laptop lid closed behind a NAT that keeps
//! the socket, a tab the browser froze) leaves its event stream blocked on a
//! full socket. Nothing in the stream can notice: the server stops polling a
//! body whose last frame it cannot write, so the stream never runs again,
//! and TCP keeps a connection whose peer acknowledges its zero window for as
//! long as it likes. Its file descriptor, its place among the hub's
//! subscribers and the frames waiting to be written stay taken.
//!
//! The kernel is the one that sees whether the client still takes data, so
//! the timeout is the kernel's: `TCP_USER_TIMEOUT` on the connection's
//! socket. When data written to it has gone unacknowledged, or has waited
//! behind a zero window, for longer than the timeout, the kernel aborts the
//! connection; the server's next write fails with
//! [`TimedOut`](std::io::ErrorKind::TimedOut), it drops the response, and
//! the stream ends like one whose client went away. A slow client that still
//! reads is not cut: every window it opens lets data through, which restarts
//! the clock. How slow is too slow depends on the path's segment size: on a
//! network (1,460-byte segments) a client that reads a segment per timeout
//! is alive; on loopback (64 KiB segments) it must read several segments
//! per timeout (`sse-axum/tests/stall.rs` reads 640 KiB/s against a 2 s
//! timeout; `BENCHMARKS.md`, "Clients that stop reading", 256 KiB/s
//! against 10 s).
//!
//! An idle stream is covered too: its keep-alive comments are data, so a
//! client that vanished without a word is released at most a keep-alive
//! interval plus the timeout after it went.
//!
//! `sse_axum::serve` sets it on every TCP connection (30 s unless told);
//! `sse_actix` has an `on_connect` hook for `HttpServer`; any other server
//! calls [`set_stall_timeout`] on the sockets it accepts.

use std::error::Error;
use std::io;
use std::time::Duration;

/// How long a client may leave written data unread before its connection
/// is released, unless a server is told otherwise: long enough for a slow
/// link or a short network outage, short enough that a client that went
/// away does not hold its slot for long.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Releases the connection on `socket` once its client has left written
/// data unacknowledged, or unread behind a zero window, for `timeout`
/// (`TCP_USER_TIMEOUT`; see the [module](self) docs).
///
/// Returns an error where the system has no such option (every system but
/// Linux, Android and Fuchsia) or `socket` is not a TCP socket. A timeout
/// below a millisecond is a millisecond; zero leaves the system's default
/// (no such timeout).
///
/// ```
/// use std::time::Duration;
///
/// # fn main() -> std::io::Result<()> {
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (accepted, _) = listener.accept()?;
/// # #[cfg(target_os = "linux")]
/// sse_engine::set_stall_timeout(&accepted, Duration::from_secs(30))?;
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[cfg(unix)]
pub fn set_stall_timeout<S: std::os::fd::AsFd>(socket: &S, timeout: Duration) -> io::Result<()> {
    user_timeout(&socket2::SockRef::from(socket), timeout)
}

/// Releases the connection on `socket` once its client has left written
/// data unread for `timeout`; see the [module](self) docs. Windows has no
/// such option: this returns [`Unsupported`](io::ErrorKind::Unsupported).
#[cfg(windows)]
pub fn set_stall_timeout<S: std::os::windows::io::AsSocket>(
    socket: &S,
    timeout: Duration,
) -> io::Result<()> {
    user_timeout(&socket2::SockRef::from(socket), timeout)
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
fn user_timeout(socket: &socket2::SockRef<'_>, timeout: Duration) -> io::Result<()> {
    let timeout = if timeout.is_zero() {
        None
    } else {
        Some(timeout.max(Duration::from_millis(1)))
    };
    socket.set_tcp_user_timeout(timeout)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
fn user_timeout(_socket: &socket2::SockRef<'_>, _timeout: Duration) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "this system cannot release stalled connections (no TCP_USER_TIMEOUT)",
    ))
}

/// Whether a connection ended with `error` because its client stopped
/// taking data (the stall timeout, or TCP giving up on an unanswered
/// connection): a [`TimedOut`](io::ErrorKind::TimedOut) I/O error anywhere
/// in its chain of sources.
///
/// ```
/// use std::io;
///
/// let stalled = io::Error::from(io::ErrorKind::TimedOut);
/// assert!(sse_engine::is_stalled(&stalled));
/// assert!(!sse_engine::is_stalled(&io::Error::from(io::ErrorKind::ConnectionReset)));
/// ```
pub fn is_stalled(error: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error
            .downcast_ref::<io::Error>()
            .is_some_and(|error| error.kind() == io::ErrorKind::TimedOut)
        {
            return true;
        }
        cause = error.source();
    }
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::Instant;

    /// A client that never reads: the server's writes fail with `TimedOut`
    /// once the timeout has passed, and `is_stalled` says so. Without the
    /// timeout the writes would block (here: `WouldBlock`) for ever.
    #[test]
    fn a_client_that_never_reads_is_released_after_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        socket2::SockRef::from(&client)
            .set_recv_buffer_size(4096)
            .unwrap();
        let (mut server, _) = listener.accept().unwrap();
        set_stall_timeout(&server, Duration::from_millis(300)).unwrap();
        server.set_nonblocking(true).unwrap();
        let started = Instant::now();
        let chunk = vec![b'x'; 16 * 1024];
        let error = loop {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the connection was never released"
            );
            match server.write(&chunk) {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => break error,
            }
        };
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        assert!(is_stalled(&error));
        drop(client);
    }

    #[test]
    fn a_timed_out_source_is_found_under_other_errors() {
        #[derive(Debug)]
        struct Wrapper(io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connection error")
            }
        }
        impl Error for Wrapper {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        assert!(is_stalled(&Wrapper(io::ErrorKind::TimedOut.into())));
        assert!(!is_stalled(&Wrapper(io::ErrorKind::BrokenPipe.into())));
    }

    #[test]
    fn a_socket_that_is_not_tcp_is_refused() {
        let (one, _other) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(set_stall_timeout(&one, Duration::from_secs(1)).is_err());
    }
}
