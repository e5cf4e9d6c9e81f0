//! `/api/v1/audit`: the audit log, newest first (MSP admins only).

use axum::extract::State;
use axum::Json;
use provisio_api::auth::AuditEntry;
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentAdmin;
use crate::db;
use crate::{ApiError, AppState};

/// Entries returned per request.
const AUDIT_PAGE: u32 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// The latest audit entries: sign-ins, sign-outs, failed sign-ins and admin changes.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    responses((status = 200, body = Vec<AuditEntry>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    admin.require_msp_admin()?;
    Ok(Json(db::audit::recent(&state.pool, AUDIT_PAGE).await?))
}
