//! Tower middleware for Server-Sent Events, added to services you already
//! have (an axum router, a hyper service, anything built on tower), without
//! rewriting handlers.
//!
//! - [`response`]: SSE headers, keep-alive at event boundaries, a maximum
//!   lifetime and graceful-shutdown endings for every event-stream response,
//!   whatever produced it. Other responses pass through untouched.
//! - [`last_event_id`]: the client's cursor, parsed once into the request's
//!   extensions.
//! - [`EndpointService`]: an [`sse_engine::hub::Endpoint`] (topics of a hub,
//!   and how each stream runs) served as a tower `Service`, with resume.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod boundary;
mod endpoint;
pub mod last_event_id;
pub mod response;

pub use endpoint::{EndpointService, EndpointServiceBody};

/// Renamed to [`EndpointService`]: it serves an [`sse_engine::hub::Endpoint`],
/// and every crate of the workspace names that concept "endpoint".
#[deprecated(note = "renamed to `EndpointService`")]
pub type HubService = EndpointService;

/// Renamed to [`EndpointServiceBody`], the body of an [`EndpointService`].
#[deprecated(note = "renamed to `EndpointServiceBody`")]
pub type HubBody = EndpointServiceBody;
