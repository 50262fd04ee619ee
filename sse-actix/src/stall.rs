//! [`stall_timeout`]: an `HttpServer::on_connect` hook that releases the
//! connection of a client that stopped reading.

use std::any::Any;
use std::time::Duration;

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

/// An [`HttpServer::on_connect`](actix_web::HttpServer::on_connect) hook
/// that gives every plain TCP connection a stall timeout (`None`: none): a client that
/// leaves written data unread for `timeout` has its connection released by
/// the kernel, the stream's write fails and actix-web drops it (see
/// [`sse_engine::set_stall_timeout`], and
/// [`STALL_TIMEOUT`](sse_engine::STALL_TIMEOUT) for a default). Without it,
/// a client that stops reading (a closed laptop lid behind a NAT) holds its
/// connection, its subscription and the frames waiting for it for as long
/// as TCP keeps the socket, which can be for ever.
///
/// A TLS connection reaches the hook as its TLS stream: call
/// [`sse_engine::set_stall_timeout`] on the TCP stream inside it from your
/// own hook.
///
/// ```no_run
/// use actix_web::{App, HttpServer};
///
/// # async fn run() -> std::io::Result<()> {
/// HttpServer::new(|| App::new())
///     .on_connect(sse_actix::stall_timeout(sse_actix::STALL_TIMEOUT))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// # }
/// ```
pub fn stall_timeout(
    timeout: impl Into<Option<Duration>>,
) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + Clone {
    let timeout = timeout.into();
    move |connection, _| {
        if let Some(timeout) = timeout
            && let Some(tcp) = connection.downcast_ref::<TcpStream>()
        {
            // Fails only where the system has no such option (documented on
            // `set_stall_timeout`): the connection is served as before.
            let _ = sse_engine::set_stall_timeout(tcp, timeout);
        }
    }
}
