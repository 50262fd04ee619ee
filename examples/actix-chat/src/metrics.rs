//! `GET /metrics`: the libraries' metrics in Prometheus' text format (see
//! `example_chat_common::observe`).

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpResponse, http::header};
use example_chat_common::observe::{self, PrometheusHandle};

/// `GET /metrics`, rendered from `handle`.
pub fn metrics_route(handle: PrometheusHandle) -> impl FnOnce(&mut ServiceConfig) {
    move |config| {
        config.route(
            "/metrics",
            web::get().to(move || {
                let text = observe::render(&handle);
                async move {
                    HttpResponse::Ok()
                        .insert_header((header::CONTENT_TYPE, observe::CONTENT_TYPE))
                        .body(text)
                }
            }),
        );
    }
}
