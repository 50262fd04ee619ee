//! What an operator sees of a chat server: logs through `tracing` (at
//! `info` unless `RUST_LOG` says otherwise) and the libraries' metrics
//! (see `sse_engine::metrics`) rendered by `metrics-exporter-prometheus` on
//! `GET /metrics`, with no listener of the exporter's own.

use metrics_exporter_prometheus::PrometheusBuilder;
pub use metrics_exporter_prometheus::PrometheusHandle;

/// The `Content-Type` of [`render`]'s text: Prometheus' text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prints the libraries' and the server's logs to standard error, at `info`
/// unless `RUST_LOG` says otherwise (for example
/// `RUST_LOG=info,sse_engine=debug` to see every stream open and end).
/// Does nothing if a subscriber is already installed.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Installs the Prometheus recorder as the process's `metrics` recorder.
/// Call it before the hub is built: the hub takes its counters from the
/// recorder when it is made.
///
/// # Errors
///
/// When a recorder is already installed.
pub fn install_metrics() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|error| format!("cannot install the metrics recorder: {error}"))
}

/// The body of `GET /metrics`: every metric, in Prometheus' text format.
pub fn render(handle: &PrometheusHandle) -> String {
    handle.render()
}
