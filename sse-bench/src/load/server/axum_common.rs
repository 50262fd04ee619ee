//! What the two axum servers (ours and the peer) share: serving a router
//! and `/hold`.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use futures_util::stream;

use super::{Config, LISTEN, tokio_runtime};
use crate::load::Error;

/// Serves `router` on [`LISTEN`] with `config.workers` tokio workers.
pub(super) fn serve(
    router: Router,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    tokio_runtime(config.workers)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(LISTEN).await?;
        on_listen(listener.local_addr()?);
        // Every server sends each event at once (see `super::serve`).
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        axum::serve(listener, router).await?;
        Ok(())
    })
}

/// Serves our `router` as [`serve`] does, but with `sse_axum::serve`: the
/// same hyper server, with our stall timeout when the config has one.
pub(super) fn serve_ours(
    router: Router,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    tokio_runtime(config.workers)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(LISTEN).await?;
        on_listen(listener.local_addr()?);
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        sse_axum::serve(listener, router)
            .stall_timeout(config.stall_timeout)
            .await?;
        Ok(())
    })
}

/// `GET /hold`: a streaming body that never sends a byte.
pub(super) async fn hold() -> Response {
    let body = Body::from_stream(stream::pending::<Result<Bytes, Infallible>>());
    ([(header::CONTENT_TYPE, "text/plain")], body).into_response()
}
