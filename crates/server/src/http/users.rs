//! `/api/v1/users/{id}`: one user for the user page, their history, and what an admin does to
//! them by hand. Another customer's user does not exist for a customer's admins (404); MSP
//! admins and the customer's admins act, read-only admins see.

use axum::extract::State;
use axum::Json;
use provisio_api::auth::Role;
use provisio_api::user::{TimelineEntry, UserDetail};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::ApiPath;
use crate::auth::{ClientAddress, CurrentAdmin};
use crate::db::{self, audit::Actor};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user))
        .routes(routes!(timeline))
        .routes(routes!(preserve))
        .routes(routes!(restore))
}

/// The user: identity, customer, status and license, placement, groups, directory attributes.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn user(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserDetail>, ApiError> {
    Ok(Json(visible(&state, &admin, id).await?))
}

/// The user's provisioning events, newest first (at most 500): what identity providers,
/// mappings and admins did to them, with properties before and after.
#[utoipa::path(get, path = "/api/v1/users/{id}/timeline", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn timeline(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    visible(&state, &admin, id).await?;
    Ok(Json(db::users::timeline(&state.pool, id).await?))
}

/// Preserves the user: license preserved, data kept. Idempotent.
#[utoipa::path(post, path = "/api/v1/users/{id}/preserve", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn preserve(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserDetail>, ApiError> {
    set_preserved(&state, &admin, address.as_deref(), id, true).await
}

/// Restores a preserved user: Active, license active. Idempotent.
#[utoipa::path(post, path = "/api/v1/users/{id}/restore", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn restore(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserDetail>, ApiError> {
    set_preserved(&state, &admin, address.as_deref(), id, false).await
}

/// The user, if the caller's scope sees them; 404 otherwise.
async fn visible(state: &AppState, admin: &CurrentAdmin, id: i64) -> Result<UserDetail, ApiError> {
    let mut conn = state.pool.acquire().await?;
    db::users::detail(&mut conn, admin.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn set_preserved(
    state: &AppState,
    admin: &CurrentAdmin,
    address: Option<&str>,
    id: i64,
    preserve: bool,
) -> Result<Json<UserDetail>, ApiError> {
    let user = visible(state, admin, id).await?;
    if admin.role == Role::ReadOnly {
        return Err(ApiError::Forbidden(
            "only MSP admins and the customer's admins change users",
        ));
    }
    let mut tx = db::write_transaction(&state.pool).await?;
    let changed =
        db::users::set_preserved(&mut tx, user.customer.id, id, preserve, &admin.email).await?;
    // A restored SCIM user is placed by the mappings again (pending when none matches).
    if let (Some(_), false, Some(scim_id)) = (&changed, preserve, &user.scim_id) {
        db::mappings::place_users(
            &mut tx,
            user.customer.id,
            Some(std::slice::from_ref(scim_id)),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    if let Some(before) = changed {
        let action = if preserve {
            "user.preserve"
        } else {
            "user.restore"
        };
        let detail = format!("{} ({}): {before} → {}", user.email, user.customer.name, {
            if preserve {
                "Preserved"
            } else {
                "Active"
            }
        });
        let actor = Actor {
            admin_id: Some(admin.id),
            email: Some(&admin.email),
        };
        db::audit::record(&state.pool, actor, action, &detail, address).await?;
    }
    Ok(Json(visible(state, admin, id).await?))
}
