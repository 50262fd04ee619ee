//! [`Config`]: what the layer sets and the service, its future and its
//! body read. Its own file, so that the layer (which builds the service)
//! and the parts that read the settings do not import each other.

use std::time::Duration;

use sse_engine::KeepAlive;
use sse_engine::compression::Codecs;
use tokio_util::sync::CancellationToken;

/// The settings of one [`SseResponseLayer`](super::SseResponseLayer).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) keep_alive: Option<KeepAlive>,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) shutdown: Option<CancellationToken>,
    /// Compress event streams with one of these, negotiated per request.
    pub(crate) codecs: Option<Codecs>,
}
