//! `/api/v1/reports/user-provisioning/{layout,views,default-view}`: how each admin arranges the
//! report, and the named views they save and share.
//!
//! These are the caller's own preferences, so every role may keep them; a view holds only a
//! query, and whoever opens it still sees only the rows their own scope allows.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use provisio_api::report::{
    listed_twice, ColumnLayout, DefaultViewRequest, ReportQuery, SaveViewRequest, SavedView,
    SavedViewList, MAX_VIEW_NAME_CHARS,
};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use crate::auth::CurrentAdmin;
use crate::db::{self, views::ViewContent, Principal};
use crate::{ApiError, AppState};

/// The report these preferences belong to, as stored.
const REPORT: &str = db::views::USER_PROVISIONING;
/// Most views one admin may save for a report.
const MAX_VIEWS_PER_ADMIN: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_layout, put_layout, reset_layout))
        .routes(routes!(list_views, create_view))
        .routes(routes!(update_view, delete_view))
        .routes(routes!(set_default_view))
}

/// The caller's column layout (the report's default when none is saved).
#[utoipa::path(get, path = "/api/v1/reports/user-provisioning/layout", tag = "views",
    responses((status = 200, body = ColumnLayout), (status = 401, body = ErrorBody)))]
async fn get_layout(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<ColumnLayout>, ApiError> {
    let layout = db::views::layout(&state.pool, admin.id, REPORT).await?;
    Ok(Json(layout.unwrap_or_default()))
}

/// Saves the caller's column layout: every field once, at least one visible.
#[utoipa::path(put, path = "/api/v1/reports/user-provisioning/layout", tag = "views",
    request_body = ColumnLayout,
    responses((status = 200, body = ColumnLayout), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn put_layout(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiJson(layout): ApiJson<ColumnLayout>,
) -> Result<Json<ColumnLayout>, ApiError> {
    layout.check()?;
    db::views::save_layout(&state.pool, admin.id, REPORT, &layout).await?;
    Ok(Json(layout))
}

/// Forgets the caller's layout, back to the report's own order with every column shown.
#[utoipa::path(delete, path = "/api/v1/reports/user-provisioning/layout", tag = "views",
    responses((status = 200, body = ColumnLayout), (status = 401, body = ErrorBody)))]
async fn reset_layout(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<ColumnLayout>, ApiError> {
    db::views::delete_layout(&state.pool, admin.id, REPORT).await?;
    Ok(Json(ColumnLayout::default()))
}

/// The caller's views and those shared with them, and their default view.
#[utoipa::path(get, path = "/api/v1/reports/user-provisioning/views", tag = "views",
    responses((status = 200, body = SavedViewList), (status = 401, body = ErrorBody)))]
async fn list_views(
    State(state): State<AppState>,
    admin: CurrentAdmin,
) -> Result<Json<SavedViewList>, ApiError> {
    let viewer = &admin.principal();
    Ok(Json(SavedViewList {
        views: db::views::list(&state.pool, viewer, REPORT).await?,
        default_view: db::views::default_view(&state.pool, viewer, REPORT).await?,
    }))
}

/// Saves the current query and columns under a name.
#[utoipa::path(post, path = "/api/v1/reports/user-provisioning/views", tag = "views",
    request_body = SaveViewRequest,
    responses((status = 201, body = SavedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 409, description = "The caller has a view of that name", body = ErrorBody)))]
async fn create_view(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiJson(request): ApiJson<SaveViewRequest>,
) -> Result<(StatusCode, Json<SavedView>), ApiError> {
    let (name, query) = validate(&request)?;
    let viewer = &admin.principal();
    if db::views::name_taken(&state.pool, admin.id, REPORT, &name, None).await? {
        return Err(name_conflict(&name));
    }
    if db::views::list(&state.pool, viewer, REPORT)
        .await?
        .iter()
        .filter(|view| view.owned)
        .count()
        >= MAX_VIEWS_PER_ADMIN
    {
        return Err(ApiError::Conflict {
            parameter: None,
            message: format!("You have {MAX_VIEWS_PER_ADMIN} views; delete one first."),
        });
    }
    let content = ViewContent {
        name: &name,
        query: &query,
        columns: &request.columns,
        shared: request.shared,
    };
    let id = db::views::insert(&state.pool, admin.id, REPORT, &content).await?;
    let view = db::views::find(&state.pool, viewer, REPORT, id)
        .await?
        .ok_or(ApiError::Internal("a saved view could not be read back"))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Replaces a view the caller owns (name, query, columns, sharing).
#[utoipa::path(put, path = "/api/v1/reports/user-provisioning/views/{id}", tag = "views",
    params(("id" = i64, Path)), request_body = SaveViewRequest,
    responses((status = 200, body = SavedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "Shared with the caller, not theirs", body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_view(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<SaveViewRequest>,
) -> Result<Json<SavedView>, ApiError> {
    let viewer = &admin.principal();
    require_owned(&state, viewer, id).await?;
    let (name, query) = validate(&request)?;
    if db::views::name_taken(&state.pool, admin.id, REPORT, &name, Some(id)).await? {
        return Err(name_conflict(&name));
    }
    let content = ViewContent {
        name: &name,
        query: &query,
        columns: &request.columns,
        shared: request.shared,
    };
    if !db::views::update(&state.pool, admin.id, REPORT, id, &content).await? {
        return Err(ApiError::NotFound);
    }
    let view = db::views::find(&state.pool, viewer, REPORT, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view))
}

/// Deletes a view the caller owns.
#[utoipa::path(delete, path = "/api/v1/reports/user-provisioning/views/{id}", tag = "views",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_view(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_owned(&state, &admin.principal(), id).await?;
    if !db::views::delete(&state.pool, admin.id, REPORT, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Sets (or with `null` clears) the view the report opens with for the caller.
#[utoipa::path(put, path = "/api/v1/reports/user-provisioning/default-view", tag = "views",
    request_body = DefaultViewRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_default_view(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiJson(request): ApiJson<DefaultViewRequest>,
) -> Result<StatusCode, ApiError> {
    if let Some(id) = request.view_id {
        db::views::find(&state.pool, &admin.principal(), REPORT, id)
            .await?
            .ok_or(ApiError::NotFound)?;
    }
    db::views::set_default_view(&state.pool, admin.id, REPORT, request.view_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 404 when the caller cannot see the view at all, 403 when it is only shared with them.
async fn require_owned(state: &AppState, viewer: &Principal, id: i64) -> Result<(), ApiError> {
    match db::views::find(&state.pool, viewer, REPORT, id).await? {
        None => Err(ApiError::NotFound),
        Some(view) if !view.owned => Err(ApiError::Forbidden(
            "this view is shared with you; only its owner can change it",
        )),
        Some(_) => Ok(()),
    }
}

/// The trimmed name and the query in canonical form.
fn validate(request: &SaveViewRequest) -> Result<(String, String), ApiError> {
    let length = if request.name.trim().is_empty() {
        "Give the view a name.".to_owned()
    } else {
        format!("A view name has at most {MAX_VIEW_NAME_CHARS} characters.")
    };
    let name = super::text::clean("name", &request.name, MAX_VIEW_NAME_CHARS, &length)?;
    if request.columns.is_empty() {
        return Err(ApiError::bad_request(
            "columns",
            "A view shows at least one column.",
        ));
    }
    if let Some(twice) = listed_twice(&request.columns) {
        return Err(ApiError::bad_request(
            "columns",
            format!("Column '{}' is listed twice.", twice.key()),
        ));
    }
    let query = ReportQuery::from_query_string(&request.query)
        .map_err(|err| ApiError::bad_request("query", err.to_string()))?;
    Ok((name, query.to_query_string()))
}

fn name_conflict(name: &str) -> ApiError {
    ApiError::Conflict {
        parameter: Some("name"),
        message: format!("You already have a view named \"{name}\"."),
    }
}
