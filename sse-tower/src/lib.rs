//! Tower middleware for Server-Sent Events, added to services you already
//! have (an axum router, a hyper service, anything built on tower), without
//! rewriting handlers.
//!
//! - [`response`]: SSE headers, keep-alive at event boundaries, a maximum
//!   lifetime and graceful-shutdown endings for every event-stream response,
//!   whatever produced it. Other responses pass through untouched.
//! - [`last_event_id`]: the client's cursor, parsed once into the request's
//!   extensions.
//! - [`HubService`]: an [`sse_engine::hub::Hub`]'s topics served as an SSE
//!   endpoint with resume.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod boundary;
mod hub_service;
pub mod last_event_id;
pub mod response;

pub use hub_service::{HubBody, HubService};
