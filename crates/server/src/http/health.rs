//! `GET /healthz` and `GET /readyz`: answer without a session so load balancers and
//! orchestrators can probe. Liveness never touches the database (a slow database must not get a
//! live process restarted); readiness does (a server whose database does not answer should get
//! no traffic).

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{db, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// Whether the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "alive", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Whether the server can serve requests: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "ready", body = String),
              (status = 503, description = "the database does not answer", body = String)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match db::ping(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
