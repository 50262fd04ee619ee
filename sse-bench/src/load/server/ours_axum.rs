//! Ours on axum: the hub topic served by sse-tower's `EndpointService` (what
//! `sse_axum::endpoint_route` mounts, with the keep-alive interval set), and
//! `sse_axum::Sse` for `/flood`.

use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, get_service, post};
use futures_util::{StreamExt, stream};
use sse_axum::Sse;
use sse_engine::hub::{Endpoint, Hub};
use sse_engine::{Event, KeepAlive, SseBody, Text};
use sse_tower::EndpointService;

use super::Config;
use super::axum_common::hold;
use crate::load::wire::{Flood, TOPIC};

#[derive(Clone)]
struct Ours {
    hub: Hub,
    keep_alive: KeepAlive,
}

/// The routes of the wire interface.
pub(super) fn router(config: Config) -> Router {
    let hub = super::hub();
    let keep_alive = KeepAlive::new().interval(config.keep_alive);
    let events =
        EndpointService::from(Endpoint::new(hub.clone(), [TOPIC]).keep_alive(keep_alive.clone()));
    Router::new()
        .route("/events", get_service(events))
        .route("/publish", post(publish))
        .route("/flood", get(flood))
        .route("/hold", get(hold))
        .route("/stats", get(stats))
        .with_state(Ours { hub, keep_alive })
}

async fn publish(State(ours): State<Ours>, body: Bytes) -> Response {
    let Ok(data) = Text::from_utf8(body) else {
        return (StatusCode::BAD_REQUEST, "the data is not UTF-8").into_response();
    };
    match ours.hub.publish(TOPIC, Event::new().data(data)).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}

async fn flood(State(ours): State<Ours>, uri: Uri) -> Response {
    let flood = match Flood::from_query(uri.query()) {
        Ok(flood) => flood,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let data = Text::from(flood.data());
    let events = stream::iter(0..flood.events)
        .map(move |_| Ok::<_, Infallible>(Event::new().data(data.clone())));
    Sse::from(SseBody::new(events).keep_alive(ours.keep_alive)).into_response()
}

async fn stats(State(ours): State<Ours>) -> String {
    ours.hub.stats().subscribers.to_string()
}
