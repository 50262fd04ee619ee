//! `GET /metrics`: the libraries' metrics in Prometheus' text format (see
//! `example_chat_common::observe`).

use axum::Router;
use axum::http::header;
use axum::routing::get;
use example_chat_common::observe::{self, PrometheusHandle};

/// `router` with `GET /metrics`, rendered from `handle`.
pub fn with_metrics(router: Router, handle: PrometheusHandle) -> Router {
    router.route(
        "/metrics",
        get(move || {
            let text = observe::render(&handle);
            async move { ([(header::CONTENT_TYPE, observe::CONTENT_TYPE)], text) }
        }),
    )
}
