#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod deprecated;
mod error;
pub mod extract;
mod response;
#[cfg(feature = "serve")]
mod serve;

use axum::routing::{MethodRouter, get_service};
use sse_tower::EndpointService;

#[allow(deprecated)]
pub use deprecated::{Cursor, LastEventId, LastEventIdRejection, hub_route};
pub use error::HubError;
pub use extract::{RequestCursor, Resume, ResumeRejection};
pub use response::Sse;
#[cfg(feature = "serve")]
#[cfg_attr(docsrs, doc(cfg(feature = "serve")))]
pub use serve::{HEADER_READ_TIMEOUT, Serve, serve};
// What an application needs besides this crate, so that it is the only
// dependency for SSE: the events, keep-alive, the hub, and the tower layer
// that gives every event-stream response keep-alive and graceful-shutdown
// endings.
pub use sse_engine::compression;
pub use sse_engine::hub;
pub use sse_engine::metrics;
pub use sse_engine::{
    EncodedEvent, Event, EventId, IntoEventId, IntoText, InvalidField, KeepAlive, STALL_TIMEOUT,
    SseBody, Text, set_stall_timeout,
};
pub use sse_tower::response::SseResponseLayer;

/// `GET` (and `HEAD`): a hub [`Endpoint`](hub::Endpoint) as a route. The
/// endpoint says which topics are served and how each stream runs: its
/// `retry`, maximum lifetime and keep-alive (15 s unless set). Each request
/// resumes from its cursor (see [`Resume`]); a cursor that cannot be
/// honoured gets the hub's gap signal, a closed hub `503` with
/// `Retry-After`; other methods get `405` with `Allow`.
///
/// ```
/// use std::time::Duration;
/// use axum::Router;
/// use sse_axum::KeepAlive;
/// use sse_axum::hub::{Endpoint, Hub};
///
/// let hub = Hub::new();
/// let app: Router = Router::new()
///     // The defaults: one line.
///     .route("/events", sse_axum::endpoint_route(Endpoint::new(hub.clone(), ["chat"])))
///     // Configured.
///     .route(
///         "/news",
///         sse_axum::endpoint_route(
///             Endpoint::new(hub, ["news"])
///                 .retry(Duration::from_secs(2))
///                 .keep_alive(KeepAlive::new().interval(Duration::from_secs(10))),
///         ),
///     );
/// ```
///
/// A handler of your own (to authorize first, say) opens the endpoint's
/// stream itself: `endpoint.open(cursor).map(Sse::from).map_err(HubError::from)`
/// is a `Result` that axum answers.
pub fn endpoint_route<S>(endpoint: hub::Endpoint) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get_service(EndpointService::from(endpoint))
}
