//! `/api/v1/subscriptions`: the User Provisioning report delivered by email on a schedule.
//!
//! Every admin keeps their own subscriptions (like saved views, they only ever deliver what the
//! owner may see, re-checked at each delivery). MSP admins see and manage all of them, and can
//! take over or reassign one whose owner was disabled.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use provisio_api::report::{listed_twice, ReportQuery};
use provisio_api::subscription::{
    plausible_email, AssignOwnerRequest, Delivery, SaveSubscriptionRequest, SubscribedView,
    Subscription, MAX_NAME_CHARS, MAX_RECIPIENTS,
};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use crate::auth::CurrentAdmin;
use crate::db::subscriptions::SubscriptionContent;
use crate::db::{self, Principal};
use crate::{ApiError, AppState};

/// Deliveries a history lists.
const HISTORY_LENGTH: i64 = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(
            get_subscription,
            update_subscription,
            delete_subscription
        ))
        .routes(routes!(send_now))
        .routes(routes!(list_deliveries))
        .routes(routes!(assign_owner))
}

async fn visible(
    state: &AppState,
    admin: &CurrentAdmin,
    id: i64,
) -> Result<Subscription, ApiError> {
    db::subscriptions::find(&state.pool, &admin.principal(), id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The subscriptions the caller may see: their own, or every one for MSP admins.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "subscriptions",
    responses((status = 200, body = Vec<Subscription>), (status = 401, body = ErrorBody)))]
async fn list_subscriptions(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<Vec<Subscription>>, ApiError> {
    Ok(Json(
        db::subscriptions::list(&state.pool, &admin.principal()).await?,
    ))
}

/// Subscribes the caller to the report.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "subscriptions",
    request_body = SaveSubscriptionRequest,
    responses((status = 201, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "The saved view it names is not available", body = ErrorBody)))]
async fn create_subscription(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiJson(request): ApiJson<SaveSubscriptionRequest>,
) -> Result<(StatusCode, Json<Subscription>), ApiError> {
    let checked = validate(&state, &admin.principal(), &request).await?;
    let id = db::subscriptions::insert(&state.pool, admin.id, &checked.content(&request)).await?;
    let created = visible(&state, &admin, id).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = i64, Path)),
    responses((status = 200, body = Subscription), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_subscription(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Subscription>, ApiError> {
    Ok(Json(visible(&state, &admin, id).await?))
}

/// Replaces a subscription (also how it is paused and resumed: `enabled`).
#[utoipa::path(put, path = "/api/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = i64, Path)), request_body = SaveSubscriptionRequest,
    responses((status = 200, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn update_subscription(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<SaveSubscriptionRequest>,
) -> Result<Json<Subscription>, ApiError> {
    let existing = visible(&state, &admin, id).await?;
    // A saved view is checked against the owner's access, whoever edits.
    let owner = db::admins::find(&state.pool, existing.owner.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let checked = validate(&state, &Principal::of_admin(&owner), &request).await?;
    db::subscriptions::update(&state.pool, id, &checked.content(&request)).await?;
    Ok(Json(visible(&state, &admin, id).await?))
}

/// Deletes a subscription and its delivery history.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_subscription(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    visible(&state, &admin, id).await?;
    db::subscriptions::delete(&state.pool, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delivers now: a real delivery, recorded in the history like a scheduled one.
#[utoipa::path(post, path = "/api/v1/subscriptions/{id}/send", tag = "subscriptions",
    params(("id" = i64, Path)),
    responses((status = 200, body = Delivery), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, description = "Mail is not set up on this server", body = ErrorBody)))]
async fn send_now(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Delivery>, ApiError> {
    visible(&state, &admin, id).await?;
    let deliverer = state
        .deliverer
        .as_ref()
        .ok_or(ApiError::Unavailable("mail is not set up on this server"))?;
    let delivery = deliverer
        .send_now(id)
        .await?
        .ok_or(ApiError::Internal("a delivery could not be read back"))?;
    Ok(Json(delivery))
}

/// The subscription's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/subscriptions/{id}/deliveries", tag = "subscriptions",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Delivery>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    visible(&state, &admin, id).await?;
    Ok(Json(
        db::subscriptions::deliveries(&state.pool, id, HISTORY_LENGTH).await?,
    ))
}

/// Gives a subscription to another active admin (MSP admins only): how a subscription outlives
/// its owner's account.
#[utoipa::path(put, path = "/api/v1/subscriptions/{id}/owner", tag = "subscriptions",
    params(("id" = i64, Path)), request_body = AssignOwnerRequest,
    responses((status = 200, body = Subscription), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, description = "No such subscription or admin", body = ErrorBody),
              (status = 409, description = "The admin is disabled or cannot open the subscription's view", body = ErrorBody)))]
async fn assign_owner(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<AssignOwnerRequest>,
) -> Result<Json<Subscription>, ApiError> {
    admin.require_msp_admin()?;
    let existing = visible(&state, &admin, id).await?;
    match db::admins::find(&state.pool, request.owner_id).await? {
        Some(owner) if !owner.disabled => {
            // A saved view the new owner cannot open would fail every delivery: refuse now.
            if let SubscribedView::SavedView { view_id } = existing.view {
                let viewer = Principal::of_admin(&owner);
                if db::views::find(&state.pool, &viewer, db::views::USER_PROVISIONING, view_id)
                    .await?
                    .is_none()
                {
                    return Err(ApiError::Conflict {
                        parameter: Some("owner_id"),
                        message:
                            "The new owner cannot open the saved view this subscription follows."
                                .to_owned(),
                    });
                }
            }
        }
        Some(_) => {
            return Err(ApiError::Conflict {
                parameter: Some("owner_id"),
                message: "That admin is disabled; choose an active admin as the new owner."
                    .to_owned(),
            })
        }
        None => {
            return Err(ApiError::Missing {
                parameter: "owner_id",
                message: "There is no such admin; choose an active admin as the new owner."
                    .to_owned(),
            })
        }
    }
    db::subscriptions::set_owner(&state.pool, id, request.owner_id).await?;
    Ok(Json(visible(&state, &admin, id).await?))
}

/// A request's values, checked and trimmed.
struct Checked {
    name: String,
    recipients: Vec<String>,
    view: SubscribedView,
}

impl Checked {
    fn content<'a>(&'a self, request: &'a SaveSubscriptionRequest) -> SubscriptionContent<'a> {
        SubscriptionContent {
            name: &self.name,
            view: &self.view,
            format: request.format,
            schedule: &request.schedule,
            recipients: &self.recipients,
            skip_empty: request.skip_empty,
            enabled: request.enabled,
            next_run_at: request
                .enabled
                .then(|| request.schedule.next_after(Utc::now()))
                .flatten(),
        }
    }
}

/// The recipients, each a valid address, each once (case-insensitively), 1 to the most.
pub(super) fn recipients(given: &[String]) -> Result<Vec<String>, ApiError> {
    let mut recipients: Vec<String> = Vec::new();
    let cleaned = given
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            super::text::clean(
                "recipients",
                r,
                254,
                "An address has at most 254 characters.",
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    for address in cleaned.iter().map(String::as_str).filter(|r| !r.is_empty()) {
        if !plausible_email(address) {
            return Err(ApiError::bad_request(
                "recipients",
                format!("'{address}' is not an email address."),
            ));
        }
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(address)) {
            recipients.push(address.to_owned());
        }
    }
    if recipients.is_empty() {
        return Err(ApiError::bad_request(
            "recipients",
            "Add at least one recipient.",
        ));
    }
    // Counted as sent, as the document counts them.
    if given.len() > MAX_RECIPIENTS {
        return Err(ApiError::bad_request(
            "recipients",
            format!("At most {MAX_RECIPIENTS} recipients."),
        ));
    }
    Ok(recipients)
}

/// Checks a request for the subscription's owner (whose access a saved view must pass).
async fn validate(
    state: &AppState,
    owner: &Principal,
    request: &SaveSubscriptionRequest,
) -> Result<Checked, ApiError> {
    let name = super::text::clean(
        "name",
        &request.name,
        MAX_NAME_CHARS,
        &format!("Name the subscription (1 to {MAX_NAME_CHARS} characters)."),
    )?;
    let recipients = recipients(&request.recipients)?;
    request
        .schedule
        .check()
        .map_err(|err| ApiError::bad_request("schedule", err.0))?;
    let view = match &request.view {
        SubscribedView::Snapshot { query, columns } => {
            let parsed = ReportQuery::from_query_string(query)
                .map_err(|err| ApiError::bad_request("view", err.to_string()))?;
            if let Some(twice) = listed_twice(columns) {
                return Err(ApiError::bad_request(
                    "view",
                    format!("column '{}' is listed twice", twice.key()),
                ));
            }
            SubscribedView::Snapshot {
                query: parsed.to_query_string(),
                columns: columns.clone(),
            }
        }
        SubscribedView::SavedView { view_id } => {
            db::views::find(&state.pool, owner, db::views::USER_PROVISIONING, *view_id)
                .await?
                .ok_or_else(|| ApiError::Missing {
                    parameter: "view",
                    message: "That saved view is not available.".to_owned(),
                })?;
            SubscribedView::SavedView { view_id: *view_id }
        }
    };
    Ok(Checked {
        name,
        recipients,
        view,
    })
}
