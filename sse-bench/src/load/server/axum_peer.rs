//! The axum peer, as its documentation and the usual pattern have it:
//! `axum::response::sse::Sse` with `KeepAlive`, over a
//! `tokio::sync::broadcast` channel read through tokio-stream's
//! `BroadcastStream`; each subscriber builds its own `Event` per message.

use std::convert::Infallible;
use std::future::ready;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{StreamExt, stream};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::Config;
use super::axum_common::hold;
use crate::load::wire::{BACKLOG_EVENTS, Flood};

#[derive(Clone)]
struct Peer {
    sender: broadcast::Sender<String>,
    keep_alive: Duration,
}

/// The routes of the wire interface.
pub(super) fn router(config: Config) -> Router {
    let (sender, _) = broadcast::channel(BACKLOG_EVENTS);
    Router::new()
        .route("/events", get(events))
        .route("/publish", post(publish))
        .route("/flood", get(flood))
        .route("/hold", get(hold))
        .route("/stats", get(stats))
        .with_state(Peer {
            sender,
            keep_alive: config.keep_alive,
        })
}

async fn events(State(peer): State<Peer>) -> Response {
    // A receiver that lagged skips what it missed, as most servers do.
    let events = BroadcastStream::new(peer.sender.subscribe())
        .filter_map(|message| ready(message.ok()))
        .map(|data| Ok::<_, Infallible>(Event::default().data(data)));
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(peer.keep_alive))
        .into_response()
}

async fn publish(State(peer): State<Peer>, body: Bytes) -> Response {
    match String::from_utf8(body.to_vec()) {
        // No subscriber is not an error: the event is simply not delivered.
        Ok(data) => {
            let _ = peer.sender.send(data);
            StatusCode::OK.into_response()
        }
        Err(_) => (StatusCode::BAD_REQUEST, "the data is not UTF-8").into_response(),
    }
}

async fn flood(State(peer): State<Peer>, uri: Uri) -> Response {
    let flood = match Flood::from_query(uri.query()) {
        Ok(flood) => flood,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let data = flood.data();
    let events = stream::iter(0..flood.events)
        .map(move |_| Ok::<_, Infallible>(Event::default().data(&data)));
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(peer.keep_alive))
        .into_response()
}

async fn stats(State(peer): State<Peer>) -> String {
    peer.sender.receiver_count().to_string()
}
