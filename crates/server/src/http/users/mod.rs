//! `/api/v1/users/{id}`: one user for the user page, their history, and what an admin does to
//! them by hand. Another customer's user does not exist for a customer's admins (404); MSP
//! admins and the customer's admins act, read-only admins see.

mod bulk;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use provisio_api::auth::Role;
use provisio_api::mapping::MAX_QUOTA_GB;
use provisio_api::user::{ManualPlacement, TimelineEntry, UserDetail};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{ClientAddress, CurrentAdmin};
use crate::db;
use crate::db::users::PlacementChange;
use crate::http::json::{ApiJson, ApiPath};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(user, delete_user))
        .routes(routes!(timeline))
        .routes(routes!(preserve))
        .routes(routes!(restore))
        .routes(routes!(place_by_hand, clear_placement))
        .merge(bulk::router())
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

/// Deletes a preserved user permanently: their row, groups and history (their personal data)
/// are removed; the audit log keeps who did it and when.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "The user is not preserved; preserve them first", body = ErrorBody)))]
async fn delete_user(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let user = acting_on(&state, &admin, id).await?;
    let mut tx = db::write_transaction(&state.pool).await?;
    if db::users::delete_preserved(&mut tx, user.customer.id, id)
        .await?
        .is_none()
    {
        return Err(ApiError::Conflict {
            parameter: None,
            message: "Only a preserved user can be deleted permanently; preserve them first."
                .to_owned(),
        });
    }
    tx.commit().await?;
    // The user's email is personal data the deletion removes: the audit names the row only.
    let detail = format!("user {id} of {}: deleted permanently", user.customer.name);
    let actor = admin.actor();
    db::audit::record(
        &state.pool,
        actor,
        "user.delete",
        &detail,
        address.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
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

/// Places the user by hand on a profile, storage region and quota of their customer; the
/// mappings pass them by until the placement is cleared.
#[utoipa::path(put, path = "/api/v1/users/{id}/placement", tag = "users", params(("id" = i64, Path)),
    request_body = ManualPlacement,
    responses((status = 200, body = UserDetail), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody),
              (status = 404, description = "No such user, or a profile or region not of their customer", body = ErrorBody)))]
async fn place_by_hand(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(placement): ApiJson<ManualPlacement>,
) -> Result<Json<UserDetail>, ApiError> {
    check_quota(placement.quota_gb)?;
    change_placement(&state, &admin, address.as_deref(), id, Some(&placement)).await
}

/// Clears a placement by hand: the mappings place the user again.
#[utoipa::path(delete, path = "/api/v1/users/{id}/placement", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn clear_placement(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserDetail>, ApiError> {
    change_placement(&state, &admin, address.as_deref(), id, None).await
}

async fn change_placement(
    state: &AppState,
    admin: &CurrentAdmin,
    address: Option<&str>,
    id: i64,
    placement: Option<&ManualPlacement>,
) -> Result<Json<UserDetail>, ApiError> {
    let user = acting_on(state, admin, id).await?;
    let mut tx = db::write_transaction(&state.pool).await?;
    let customer = user.customer.id;
    match db::users::set_manual_placement(&mut tx, customer, id, placement, &admin.email).await? {
        PlacementChange::NotTheCustomers => return Err(not_the_customers()),
        PlacementChange::AlreadySo => return Ok(Json(user)),
        PlacementChange::Changed => {}
    }
    if let (None, Some(scim_id)) = (placement, &user.scim_id) {
        db::mappings::place_users(&mut tx, customer, Some(std::slice::from_ref(scim_id)), None)
            .await?;
    }
    tx.commit().await?;
    let detail = match placement {
        Some(to) => format!(
            "{} ({}): placed by hand on profile {}, region {}, quota {:?}",
            user.email, user.customer.name, to.profile_id, to.storage_region_id, to.quota_gb
        ),
        None => format!(
            "{} ({}): placement by hand cleared",
            user.email, user.customer.name
        ),
    };
    let actor = admin.actor();
    db::audit::record(&state.pool, actor, "user.placement", &detail, address).await?;
    Ok(Json(visible(state, admin, id).await?))
}

fn not_the_customers() -> ApiError {
    ApiError::Missing {
        parameter: "profile_id",
        message: "The profile or storage region is not one of this user's customer.".into(),
    }
}

/// The user, when the caller may change them: 404 outside their scope, 403 for read-only.
async fn acting_on(
    state: &AppState,
    admin: &CurrentAdmin,
    id: i64,
) -> Result<UserDetail, ApiError> {
    let user = visible(state, admin, id).await?;
    may_change_users(admin)?;
    Ok(user)
}

fn may_change_users(admin: &CurrentAdmin) -> Result<(), ApiError> {
    if admin.role == Role::ReadOnly {
        return Err(ApiError::Forbidden(
            "only MSP admins and the customer's admins change users",
        ));
    }
    Ok(())
}

/// The quota of a placement by hand, when it is out of range.
fn check_quota(quota_gb: Option<u32>) -> Result<(), ApiError> {
    if quota_gb.is_some_and(|q| q == 0 || q > MAX_QUOTA_GB) {
        return Err(ApiError::bad_request(
            "quota_gb",
            format!("A quota is 1 to {MAX_QUOTA_GB} GB, or none for unlimited."),
        ));
    }
    Ok(())
}

/// The user, if the caller's scope sees them; 404 otherwise.
async fn visible(state: &AppState, admin: &CurrentAdmin, id: i64) -> Result<UserDetail, ApiError> {
    db::users::detail(&state.pool, admin.scope(), id)
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
    let user = acting_on(state, admin, id).await?;
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
        let actor = admin.actor();
        db::audit::record(&state.pool, actor, action, &detail, address).await?;
    }
    Ok(Json(visible(state, admin, id).await?))
}
