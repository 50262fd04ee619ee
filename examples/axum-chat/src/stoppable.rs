//! [`StoppableListener`]: a listener that stops accepting on demand, the
//! first step of a graceful shutdown.

use std::io;

use axum::serve::Listener;
use tokio_util::sync::CancellationToken;

/// Accepts connections until `stop` is cancelled, then none: clients that
/// reconnect from then on are refused by the operating system and go to
/// another instance, instead of reaching a hub that is closing and being
/// answered `503` (which `EventSource` takes as final).
///
/// axum's graceful shutdown also stops accepting, but only once its signal
/// future is done; this makes "stop accepting" a step that comes, in order,
/// before the hub closes.
#[derive(Debug)]
pub struct StoppableListener<L> {
    inner: L,
    stop: CancellationToken,
}

impl<L> StoppableListener<L> {
    /// `inner`, until `stop` is cancelled.
    pub fn new(inner: L, stop: CancellationToken) -> Self {
        Self { inner, stop }
    }
}

impl<L: Listener> Listener for StoppableListener<L> {
    type Io = L::Io;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        tokio::select! {
            // Checked first: once stopped, a connection already waiting in
            // the backlog is not taken either.
            biased;
            () = self.stop.cancelled() => std::future::pending().await,
            accepted = self.inner.accept() => accepted,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
