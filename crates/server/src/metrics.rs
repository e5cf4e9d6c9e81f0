//! Prometheus metrics: requests and their latency per route template, method and status; SCIM
//! changes and deliveries by outcome; the database pool's use. Recorded through the `metrics`
//! facade where things happen (a no-op until a recorder is installed) and served in the
//! Prometheus text format on their own listener (`--metrics-listen`), never on the public one.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: from a cached page to a slow export.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process's recorder; the handle renders what it recorded.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("provisio_http_request_duration_seconds".to_owned()),
            &LATENCY_BUCKETS,
        )?
        .install_recorder()
}

/// Counts each request and times it, labelled by route template (not the path, so ids do not
/// multiply the series), method and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("provisio_http_requests_total", &labels).increment(1);
    metrics::histogram!("provisio_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A SCIM write's outcome: `resource` user or group, `action` as logged, `status` as logged.
pub fn scim_change(resource: &'static str, action: &str, status: &'static str) {
    metrics::counter!("provisio_scim_changes_total", "resource" => resource,
        "action" => action.to_owned(), "status" => status)
    .increment(1);
}

/// A subscription delivery's end: `sent`, `skipped`, `retry` or `failed`.
pub fn delivery(outcome: &'static str) {
    metrics::counter!("provisio_deliveries_total", "outcome" => outcome).increment(1);
}

/// `GET /metrics`, for the metrics listener only.
pub fn router(handle: PrometheusHandle, pool: crate::db::Pool) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let (handle, pool) = (handle.clone(), pool.clone());
            async move {
                let (open, idle) = pool.connections();
                metrics::gauge!("provisio_db_pool_connections").set(f64::from(open));
                metrics::gauge!("provisio_db_pool_idle_connections").set(idle as f64);
                handle.render()
            }
        }),
    )
}
