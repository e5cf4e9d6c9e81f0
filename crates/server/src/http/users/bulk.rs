//! `POST /api/v1/users/bulk`: the user page's actions over many users at once, from the
//! report's selection or its query. A dry run does the same work in the same transaction and
//! rolls it back, so its counts are exactly what the action would do.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use provisio_api::report::ReportQuery;
use provisio_api::user::{
    BulkAction, BulkOutcome, BulkRequest, BulkSelection, ManualPlacement, MAX_BULK_USERS,
};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_quota, may_change_users, not_the_customers};
use crate::auth::{ClientAddress, CurrentAdmin};
use crate::db;
use crate::db::users::{BulkTarget, PlacementChange};
use crate::db::WriteTransaction;
use crate::http::json::ApiJson;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(bulk))
}

/// Preserves, restores, places by hand, returns to the mappings or (preserved ones only)
/// deletes permanently every selected user (at most 10,000), in one transaction; with
/// `dry_run`, says how many would change and changes nothing. Each changed user's history
/// records the change; the audit log records the action.
#[utoipa::path(post, path = "/api/v1/users/bulk", tag = "users", request_body = BulkRequest,
    responses((status = 200, body = BulkOutcome),
              (status = 400, description = "A query that does not parse, a quota out of range, or more users than one action takes", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "A user not found, or a profile or region not of the users' customer", body = ErrorBody)))]
async fn bulk(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiJson(request): ApiJson<BulkRequest>,
) -> Result<Json<BulkOutcome>, ApiError> {
    may_change_users(&admin)?;
    if let BulkAction::PlaceByHand { quota_gb, .. } = &request.action {
        check_quota(*quota_gb)?;
    }
    let mut tx = db::write_transaction(&state.pool).await?;
    let targets = selected_users(&mut tx, &admin, &request.users).await?;
    let changed = apply(&mut tx, &admin.email, &request.action, &targets).await?;
    let outcome = BulkOutcome {
        dry_run: request.dry_run,
        selected: targets.len() as u64,
        changed,
        unchanged: targets.len() as u64 - changed,
    };
    if request.dry_run {
        tx.rollback().await?;
        return Ok(Json(outcome));
    }
    tx.commit().await?;
    if changed > 0 {
        let detail = format!(
            "{}: {changed} of {} selected users changed",
            request.action.verb(),
            outcome.selected
        );
        db::audit::record(
            &state.pool,
            admin.actor(),
            "user.bulk",
            &detail,
            address.as_deref(),
        )
        .await?;
    }
    Ok(Json(outcome))
}

/// The users the selection names within the caller's scope. A listed id the caller cannot
/// see is 404, as on the user page.
async fn selected_users(
    tx: &mut WriteTransaction,
    admin: &CurrentAdmin,
    selection: &BulkSelection,
) -> Result<Vec<BulkTarget>, ApiError> {
    let scope = admin.scope();
    let too_many = || {
        ApiError::bad_request(
            "users",
            format!("One action changes at most {MAX_BULK_USERS} users; narrow the selection."),
        )
    };
    match selection {
        BulkSelection::Ids { ids } => {
            if ids.is_empty() {
                return Err(ApiError::bad_request("ids", "Select at least one user."));
            }
            if ids.len() > MAX_BULK_USERS {
                return Err(too_many());
            }
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            let targets = db::users::bulk_targets(&mut *tx, scope, &ids).await?;
            if targets.len() != ids.len() {
                return Err(ApiError::Missing {
                    parameter: "ids",
                    message: format!(
                        "{} of the selected users were not found; reload the report.",
                        ids.len() - targets.len()
                    ),
                });
            }
            Ok(targets)
        }
        BulkSelection::Query { query } => {
            let query = ReportQuery::from_query_string(query)?;
            let now = chrono::Utc::now();
            let targets =
                db::report::matching_bulk_targets(&mut *tx, scope, &query, MAX_BULK_USERS + 1, now)
                    .await?;
            if targets.len() > MAX_BULK_USERS {
                return Err(too_many());
            }
            Ok(targets)
        }
    }
}

/// Applies the action to each user in the caller's transaction; how many it changed.
async fn apply(
    tx: &mut WriteTransaction,
    admin_email: &str,
    action: &BulkAction,
    targets: &[BulkTarget],
) -> Result<u64, ApiError> {
    let mut changed = 0;
    // SCIM users the mappings place afresh (restored, or no longer placed by hand), by customer.
    let mut to_place: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for user in targets {
        let (was_changed, replace) = match action {
            BulkAction::Preserve | BulkAction::Restore => {
                let preserve = matches!(action, BulkAction::Preserve);
                let before = db::users::set_preserved(
                    &mut *tx,
                    user.customer_id,
                    user.id,
                    preserve,
                    admin_email,
                )
                .await?;
                (before.is_some(), !preserve)
            }
            BulkAction::PlaceByHand {
                profile_id,
                storage_region_id,
                quota_gb,
            } => {
                let placement = ManualPlacement {
                    profile_id: *profile_id,
                    storage_region_id: *storage_region_id,
                    quota_gb: *quota_gb,
                };
                let change = db::users::set_manual_placement(
                    &mut *tx,
                    user.customer_id,
                    user.id,
                    Some(&placement),
                    admin_email,
                )
                .await?;
                if change == PlacementChange::NotTheCustomers {
                    return Err(not_the_customers());
                }
                (change == PlacementChange::Changed, false)
            }
            BulkAction::ClearPlacement => {
                let change = db::users::set_manual_placement(
                    &mut *tx,
                    user.customer_id,
                    user.id,
                    None,
                    admin_email,
                )
                .await?;
                (change == PlacementChange::Changed, true)
            }
            BulkAction::DeletePermanently => {
                let deleted =
                    db::users::delete_preserved(&mut *tx, user.customer_id, user.id).await?;
                (deleted.is_some(), false)
            }
        };
        if was_changed {
            changed += 1;
            if let (true, Some(scim_id)) = (replace, &user.scim_id) {
                to_place
                    .entry(user.customer_id)
                    .or_default()
                    .push(scim_id.clone());
            }
        }
    }
    for (customer_id, scim_ids) in to_place {
        db::mappings::place_users(&mut *tx, customer_id, Some(&scim_ids), None).await?;
    }
    Ok(changed)
}
