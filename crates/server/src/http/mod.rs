//! The HTTP surface: one router per API area, merged here once with the shared layers.

mod admins;
mod audit;
mod customers;
mod health;
mod json;
mod mappings;
mod openapi;
mod provisioning;
mod report;
mod scim;
mod scim_tokens;
mod security;
mod session;
pub mod static_files;
mod subscriptions;
mod text;
mod users;
mod views;

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::any;
use axum::{Json, Router};
use provisio_api::ErrorBody;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{AppOptions, AppState};

/// Largest request body any route accepts.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest any request may take before the server gives up with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState, options: &AppOptions) -> Router {
    let (api, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .merge(session::router())
        .merge(admins::router())
        .merge(customers::router())
        .merge(audit::router())
        .merge(report::router().route_layer(middleware::from_fn(limit_heavy_reads)))
        .merge(views::router())
        .merge(scim_tokens::router())
        .merge(mappings::router())
        .merge(subscriptions::router())
        .merge(users::router())
        .merge(provisioning::router().route_layer(middleware::from_fn(limit_heavy_reads)))
        .split_for_parts();
    let mut app = api
        .merge(openapi::router(document))
        .merge(scim::router())
        .route("/api/{*rest}", any(unknown_api_route))
        .with_state(state);
    if let Some(dir) = &options.static_dir {
        app = app.fallback_service(static_files::router(dir));
    }
    let csp = HeaderValue::from_str(&security::content_security_policy(
        options.static_dir.as_deref(),
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    app.layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn(security::same_origin_writes))
        .layer(middleware::from_fn(move |request, next| {
            security::headers(csp.clone(), request, next)
        }))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(json_error_bodies))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(),
                        uri = %request.uri(), request_id = %id)
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        )
        // Every answer carries the request's id (the client's own, or a new one), which the
        // provisioning log and the server's log lines name too.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Report and log reads served at once: one per core. Their queries walk indexes and are bound
/// by CPU, so more at once than cores only time-slice, and a crowd of them would starve SCIM
/// writes of CPU and hold the pool's connections. Readers past this wait their turn here.
static HEAVY_READ_PERMITS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.clamp(1, 5))
    });

async fn limit_heavy_reads(request: Request, next: Next) -> Response {
    // The semaphore is never closed; without a permit the read would still be served.
    let _permit = HEAVY_READ_PERMITS.acquire().await.ok();
    next.run(request).await
}

/// Rejections made below the handlers (a method the route does not have, a body over the
/// limit, a timeout) come as empty or plain-text answers; under `/api/` they get the JSON
/// error body every other rejection has, keeping their status and headers (`Allow`, say).
async fn json_error_bodies(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This endpoint does not take that method; see the Allow header.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "The request body is over 1 MiB."),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long; retry."),
        _ => ("error", "The request could not be completed."),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&ErrorBody::new(code, message, None)).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

async fn unknown_api_route() -> (StatusCode, Json<ErrorBody>) {
    (
        StatusCode::NOT_FOUND,
        Json(ErrorBody::new(
            "not_found",
            "no such API endpoint; see /api/openapi.json",
            None,
        )),
    )
}
