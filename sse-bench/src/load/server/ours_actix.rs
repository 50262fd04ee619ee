//! Ours on actix-web: the hub topic served by `sse_actix::endpoint_route`
//! (with the keep-alive interval set), and `sse_actix::Sse` for `/flood`.

use std::convert::Infallible;

use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse, Responder};
use futures_util::{StreamExt, stream};
use sse_actix::Sse;
use sse_engine::hub::{Endpoint, Hub};
use sse_engine::{Event, KeepAlive, SseBody, Text};

use super::Config;
use crate::load::wire::{Flood, TOPIC};

#[derive(Clone)]
struct Ours {
    hub: Hub,
    keep_alive: KeepAlive,
}

/// The routes of the wire interface but `/hold`.
pub(super) fn routes(config: Config) -> impl Fn(&mut ServiceConfig) + Clone + Send + 'static {
    let hub = super::hub();
    let keep_alive = KeepAlive::new().interval(config.keep_alive);
    let events = Endpoint::new(hub.clone(), [TOPIC]).keep_alive(keep_alive.clone());
    let ours = Ours { hub, keep_alive };
    move |routes: &mut ServiceConfig| {
        routes
            .app_data(web::Data::new(ours.clone()))
            .service(web::resource("/events").route(sse_actix::endpoint_route(events.clone())))
            .route("/publish", web::post().to(publish))
            .route("/flood", web::get().to(flood))
            .route("/stats", web::get().to(stats));
    }
}

async fn publish(ours: web::Data<Ours>, body: Bytes) -> HttpResponse {
    let Ok(data) = Text::from_utf8(body) else {
        return HttpResponse::BadRequest().body("the data is not UTF-8");
    };
    match ours.hub.publish(TOPIC, Event::new().data(data)).await {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(error) => HttpResponse::ServiceUnavailable().body(error.to_string()),
    }
}

async fn flood(ours: web::Data<Ours>, request: HttpRequest) -> HttpResponse {
    let flood = match Flood::from_query(Some(request.query_string())) {
        Ok(flood) => flood,
        Err(message) => return HttpResponse::BadRequest().body(message),
    };
    let data = Text::from(flood.data());
    let events = stream::iter(0..flood.events)
        .map(move |_| Ok::<_, Infallible>(Event::new().data(data.clone())));
    Sse::from(SseBody::new(events).keep_alive(ours.keep_alive.clone()))
        .respond_to(&request)
        .map_into_boxed_body()
}

async fn stats(ours: web::Data<Ours>) -> String {
    ours.hub.stats().subscribers.to_string()
}
