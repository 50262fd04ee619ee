//! What the two axum servers (ours and the peer) share: serving a router
//! and `/hold`.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::serve::{ListenerExt, TapIo};
use futures_util::stream;

use super::{Config, LISTEN, tokio_runtime};
use crate::load::Error;

/// Serves `router` on [`LISTEN`] with `config.workers` tokio workers, with
/// `axum::serve` (the peer).
pub(super) fn serve(
    router: Router,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    listen(config, on_listen, |listener| async move {
        axum::serve(listener, router).await
    })
}

/// Serves our `router` as [`serve`] does, but with `sse_axum::serve`: the
/// same hyper server, with our stall timeout when the config has one.
pub(super) fn serve_ours(
    router: Router,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    listen(config, on_listen, move |listener| {
        sse_axum::serve(listener, router)
            .stall_timeout(config.stall_timeout)
            .into_future()
    })
}

/// Listens on [`LISTEN`] and runs `serve` on the listener, with
/// `config.workers` tokio workers.
fn listen<S, F>(config: Config, on_listen: impl FnOnce(SocketAddr), serve: S) -> Result<(), Error>
where
    S: FnOnce(TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>) -> F,
    F: Future<Output = std::io::Result<()>>,
{
    tokio_runtime(config.workers)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(LISTEN).await?;
        on_listen(listener.local_addr()?);
        // Every server sends each event at once (see `super::serve`).
        let nodelay: fn(&mut tokio::net::TcpStream) = |stream| {
            let _ = stream.set_nodelay(true);
        };
        serve(listener.tap_io(nodelay)).await?;
        Ok(())
    })
}

/// `GET /hold`: a streaming body that never sends a byte.
pub(super) async fn hold() -> Response {
    let body = Body::from_stream(stream::pending::<Result<Bytes, Infallible>>());
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}
