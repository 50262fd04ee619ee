//! The actix-web-lab peer, as its documentation has it: `sse::Sse::from_stream`
//! with keep-alive, over a `tokio::sync::broadcast` channel read through
//! tokio-stream's `BroadcastStream`; each subscriber builds its own event per
//! message.

use std::convert::Infallible;
use std::future::ready;
use std::time::Duration;

use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Responder};
use actix_web_lab::sse::{Data, Event, Sse};
use futures_util::{StreamExt, stream};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::Config;
use crate::load::wire::{BACKLOG_EVENTS, Flood};

#[derive(Clone)]
struct Peer {
    sender: broadcast::Sender<String>,
    keep_alive: Duration,
}

/// The routes of the wire interface but `/hold`.
pub(super) fn routes(config: Config) -> impl Fn(&mut ServiceConfig) + Clone + Send + 'static {
    let (sender, _) = broadcast::channel(BACKLOG_EVENTS);
    let peer = Peer {
        sender,
        keep_alive: config.keep_alive,
    };
    move |routes: &mut ServiceConfig| {
        routes
            .app_data(web::Data::new(peer.clone()))
            .route("/events", web::get().to(events))
            .route("/publish", web::post().to(publish))
            .route("/flood", web::get().to(flood))
            .route("/stats", web::get().to(stats));
    }
}

async fn events(peer: web::Data<Peer>) -> impl Responder {
    // A receiver that lagged skips what it missed, as most servers do.
    let events = BroadcastStream::new(peer.sender.subscribe())
        .filter_map(|message| ready(message.ok()))
        .map(|data| Ok::<_, Infallible>(Event::Data(Data::new(data))));
    Sse::from_stream(events).with_keep_alive(peer.keep_alive)
}

async fn publish(peer: web::Data<Peer>, body: Bytes) -> HttpResponse {
    match String::from_utf8(body.to_vec()) {
        // No subscriber is not an error: the event is simply not delivered.
        Ok(data) => {
            let _ = peer.sender.send(data);
            HttpResponse::Ok().finish()
        }
        Err(_) => HttpResponse::BadRequest().body("the data is not UTF-8"),
    }
}

async fn flood(peer: web::Data<Peer>, request: HttpRequest) -> HttpResponse {
    let flood = match Flood::from_query(Some(request.query_string())) {
        Ok(flood) => flood,
        Err(message) => return HttpResponse::BadRequest().body(message),
    };
    let data = bytestring::ByteString::from(flood.data());
    let events = stream::iter(0..flood.events)
        .map(move |_| Ok::<_, Infallible>(Event::Data(Data::new(data.clone()))));
    Sse::from_stream(events)
        .with_keep_alive(peer.keep_alive)
        .respond_to(&request)
        .map_into_boxed_body()
}

async fn stats(peer: web::Data<Peer>) -> String {
    peer.sender.receiver_count().to_string()
}
