//! `GET /healthz`: answers without a session so load balancers and scripts can probe.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// Whether the server is up and its database answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "healthy", body = String),
              (status = 503, description = "the database does not answer", body = String)))]
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
