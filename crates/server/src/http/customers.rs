//! `/api/v1/customers`: the customers the caller may see.

use axum::extract::State;
use axum::Json;
use provisio_api::auth::CustomerRef;
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentAdmin;
use crate::db;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_customers))
}

/// Customers in the caller's scope, by name.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    responses((status = 200, body = Vec<CustomerRef>), (status = 401, body = ErrorBody)))]
async fn list_customers(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<Vec<CustomerRef>>, ApiError> {
    Ok(Json(db::customers::list(&state.pool, admin.scope()).await?))
}

/// 404 unless the customer is in the caller's scope: another customer's resources do not
/// exist for them.
pub(super) async fn require_in_scope(
    state: &AppState,
    admin: &CurrentAdmin,
    customer_id: i64,
) -> Result<(), ApiError> {
    db::customers::find(&state.pool, admin.scope(), customer_id)
        .await?
        .map(|_| ())
        .ok_or(ApiError::NotFound)
}
