//! What the two actix-web servers (ours and the peer) share: serving routes
//! and `/hold`.

use std::convert::Infallible;
use std::net::SocketAddr;

use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{App, HttpResponse, HttpServer};
use futures_util::stream;

use super::{Config, LISTEN};
use crate::load::Error;
use crate::load::wire::MAX_EVENT_BYTES;

/// Serves `routes` on [`LISTEN`] with `config.workers` actix-web workers.
pub(super) fn serve<F>(
    routes: F,
    config: Config,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), Error>
where
    F: Fn(&mut ServiceConfig) + Clone + Send + 'static,
{
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::PayloadConfig::new(MAX_EVENT_BYTES))
                .configure(routes.clone())
                .route("/hold", web::get().to(hold))
        })
        .workers(config.workers.max(1))
        // Connections are what is measured: allow the most the process can
        // hold (the default is 25,000 per worker, with a short backlog).
        .max_connections(1 << 20)
        .backlog(4096)
        // Every server sends each event at once (see `super::serve`).
        .tcp_nodelay(true)
        // Ours only (the peers' configs have none).
        .on_connect(sse_actix::stall_timeout(config.stall_timeout))
        .disable_signals()
        .bind(LISTEN)?;
        let address = server
            .addrs()
            .first()
            .copied()
            .ok_or("the server has no address")?;
        on_listen(address);
        server.run().await?;
        Ok(())
    })
}

/// `GET /hold`: a streaming body that never sends a byte.
async fn hold() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .streaming(stream::pending::<Result<Bytes, Infallible>>())
}
