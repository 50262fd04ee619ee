//! [`SseResponseLayer`]: configuration of the SSE response middleware.

use std::sync::Arc;
use std::time::Duration;

use sse_engine::KeepAlive;
use sse_engine::compression::Codecs;
use tokio_util::sync::CancellationToken;
use tower_layer::Layer;

use super::SseResponse;
use super::config::Config;

/// Applies [`SseResponse`] to a service; see the [module docs](super).
#[derive(Debug, Clone)]
#[must_use]
pub struct SseResponseLayer {
    pub(crate) config: Config,
}

impl SseResponseLayer {
    /// SSE headers, and a keep-alive comment after 15 idle seconds.
    pub fn new() -> Self {
        Self {
            config: Config {
                keep_alive: Some(KeepAlive::new()),
                max_lifetime: None,
                shutdown: None,
                codecs: None,
            },
        }
    }

    /// Sets the keep-alive interval and comment.
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.config.keep_alive = Some(keep_alive);
        self
    }

    /// Sends no keep-alive comments (the handler sends its own).
    pub fn no_keep_alive(mut self) -> Self {
        self.config.keep_alive = None;
        self
    }

    /// Ends every stream at the first event boundary after about `lifetime`
    /// (shortened at random by up to a tenth, so that clients connected
    /// together do not reconnect together). Clients reconnect with their
    /// `Last-Event-ID`; a load balancer gets to spread them again.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.max_lifetime = Some(lifetime);
        self
    }

    /// Ends every stream at its next event boundary once `token` is
    /// cancelled, so that a server's graceful shutdown is not held up by
    /// open event streams. Cancel it when the server starts shutting down.
    pub fn shutdown_on(mut self, token: CancellationToken) -> Self {
        self.config.shutdown = Some(token);
        self
    }

    /// Compresses every event stream that is not encoded yet with one of
    /// `codecs`, negotiated from the request's `Accept-Encoding`: one
    /// compressor per stream, flushed after every frame, keep-alive comments
    /// included (see [`sse_engine::compression`]). Sets `Content-Encoding`
    /// and `Vary: Accept-Encoding`; a client that asked for none of them gets
    /// the stream as it is. Off unless set; needs one of the features `gzip`,
    /// `br`, `zstd`.
    ///
    /// ```
    /// use sse_engine::compression::Codecs;
    /// use sse_tower::response::SseResponseLayer;
    ///
    /// let layer = SseResponseLayer::new().compression(Codecs::new());
    /// # drop(layer);
    /// ```
    pub fn compression(mut self, codecs: Codecs) -> Self {
        self.config.codecs = Some(codecs);
        self
    }
}

impl Default for SseResponseLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for SseResponseLayer {
    type Service = SseResponse<S>;

    fn layer(&self, inner: S) -> SseResponse<S> {
        SseResponse {
            inner,
            config: Arc::new(self.config.clone()),
        }
    }
}
