//! `/api/v1/provisioning`: the provisioning log (pages, facets, one event, downloads) and each
//! customer's provisioning status; `/api/v1/customers/{id}/provisioning/notifications`: who
//! hears when it breaks. Every admin reads what their scope holds; another customer's events do
//! not exist for a customer's admins.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use provisio_api::auth::Role;
use provisio_api::provisioning::{
    EventDetail, EventFacets, EventPage, EventQuery, NotificationSettings, PropertyChange,
    ProvisioningStatus, DEFAULT_EVENT_PAGE, EVENT_QUERY_KEYS, MAX_EVENT_PAGE,
};
use provisio_api::report::{decode_pairs, ExportFormat, QueryError};
use provisio_api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use crate::auth::{ClientAddress, CurrentAdmin};
use crate::db;
use crate::db::provisioning_log::EventRecord;
use crate::db::Scope;
use crate::{cursor, export, provisioning_health, ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(event_facets))
        .routes(routes!(export_events))
        .routes(routes!(event))
        .routes(routes!(status))
        .routes(routes!(notifications, set_notifications))
}

/// The log's query as the document states it. The handlers read the raw query string with
/// `EventQuery` (the web app writes its URL with the same code); this type only describes it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Read by the OpenAPI derive only.
struct EventParams {
    /// `24h`, `7d` (default), `30d`, or `custom` (with since and until).
    #[param(pattern = r"^(24h|7d|30d|custom)$")]
    range: Option<String>,
    /// With range=custom: the first UTC day kept.
    since: Option<chrono::NaiveDate>,
    /// With range=custom: the last UTC day kept.
    until: Option<chrono::NaiveDate>,
    /// Comma-separated statuses.
    #[param(pattern = r"^(success|failure|skipped|warning)(,(success|failure|skipped|warning))*$")]
    status: Option<String>,
    /// Comma-separated actions.
    #[param(
        pattern = r"^(create|update|disable|restore|delete|other)(,(create|update|disable|restore|delete|other))*$"
    )]
    action: Option<String>,
    /// Comma-separated customer ids (at most 200).
    #[param(pattern = r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,199}$")]
    customer: Option<String>,
    /// Comma-separated SCIM token ids, the source systems (at most 200).
    #[param(pattern = r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,199}$")]
    token: Option<String>,
    /// An identity (name, email, group) contains it, case-insensitively, or a source, target
    /// or change id is it.
    #[param(max_length = 200)]
    q: Option<String>,
    /// `-at` (newest first, the default) or `at`.
    #[param(pattern = r"^-?at$")]
    sort: Option<String>,
}

/// The query string's pairs, refusing keys the endpoint does not know.
fn pairs(raw: Option<&str>, extra: &[&str]) -> Result<Vec<(String, String)>, QueryError> {
    let pairs = decode_pairs(raw.unwrap_or(""))?;
    if let Some((key, _)) = pairs.iter().find(|(key, _)| {
        !EVENT_QUERY_KEYS.contains(&key.as_str()) && !extra.contains(&key.as_str())
    }) {
        return Err(QueryError::new(
            "query",
            format!("unknown parameter '{key}'"),
        ));
    }
    Ok(pairs)
}

fn query_of(pairs: &[(String, String)]) -> Result<EventQuery, QueryError> {
    EventQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The last value given for `key`, empty or not.
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Provisioning events, newest first (`sort=at` for oldest first), filtered and paged by cursor.
#[utoipa::path(get, path = "/api/v1/provisioning/events", tag = "provisioning",
    params(
        EventParams,
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Events per page (default 100)"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page of the same query"),
    ),
    responses(
        (status = 200, description = "One page; `total` only on the first", body = EventPage),
        (status = 400, description = "A parameter is invalid; `parameter` names it", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
async fn list_events(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    RawQuery(raw): RawQuery,
) -> Result<Json<EventPage>, ApiError> {
    let pairs = pairs(raw.as_deref(), &["limit", "cursor"])?;
    let query = query_of(&pairs)?;
    let limit =
        super::report::page_limit(value(&pairs, "limit"), MAX_EVENT_PAGE, DEFAULT_EVENT_PAGE)?;
    let scope = admin.scope();
    // `cursor=` (an empty form field) is the first page.
    let after = value(&pairs, "cursor")
        .filter(|text| !text.is_empty())
        .map(|text| cursor::decode_event(text, &query, scope))
        .transpose()?;
    let now = Utc::now();
    let (rows, next) =
        db::provisioning_log::page(&state.pool, scope, &query, after.as_ref(), limit, now).await?;
    let total = match after {
        None => Some(db::provisioning_log::count(&state.pool, scope, &query, now).await?),
        Some(_) => None,
    };
    Ok(Json(EventPage {
        rows,
        next_cursor: next.map(|keyset| cursor::encode_event(&query, scope, &keyset)),
        total,
    }))
}

/// The statuses, actions, customers and source systems that occur in the query's date range
/// (and search), with counts: the filters' options.
#[utoipa::path(get, path = "/api/v1/provisioning/events/facets", tag = "provisioning",
    params(EventParams),
    responses((status = 200, body = EventFacets),
              (status = 400, description = "A parameter is invalid", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn event_facets(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    RawQuery(raw): RawQuery,
) -> Result<Json<EventFacets>, ApiError> {
    let query = query_of(&pairs(raw.as_deref(), &[])?)?;
    Ok(Json(
        db::provisioning_log::facets(&state.pool, admin.scope(), &query, Utc::now()).await?,
    ))
}

/// Every event the query keeps, as a file, streamed: the log's columns, the error and the
/// modified properties.
#[utoipa::path(get, path = "/api/v1/provisioning/events/export", tag = "provisioning",
    params(("format" = ExportFormat, Query, description = "`csv` or `json`"), EventParams),
    responses((status = 200, description = "The file"),
              (status = 400, description = "A parameter is invalid", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn export_events(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = pairs(raw.as_deref(), &["format"])?;
    let query = query_of(&pairs)?;
    let format = match value(&pairs, "format") {
        Some(key) => ExportFormat::from_key(key).ok_or_else(|| {
            QueryError::new(
                "format",
                format!("'{key}' is not an export format; use csv or json"),
            )
        })?,
        None => return Err(QueryError::new("format", "choose a format: csv or json").into()),
    };
    let scope = admin.scope();
    let now = Utc::now();
    let file_name = export::named_file(
        "provisioning-log",
        &db::customers::label(&state.pool, scope).await?,
        format,
        now,
    );
    let records = db::provisioning_log::stream(state.pool.clone(), scope, query, now);
    Ok(export::attachment(
        format,
        &file_name,
        export::encode(records, export::EventColumns, format),
    ))
}

/// One event with its steps, troubleshooting advice, modified properties and ids.
#[utoipa::path(get, path = "/api/v1/provisioning/events/{id}", tag = "provisioning",
    params(("id" = i64, Path)),
    responses((status = 200, body = EventDetail),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such event in the caller's scope", body = ErrorBody)))]
async fn event(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EventDetail>, ApiError> {
    let record = db::provisioning_log::find(&state.pool, admin.scope(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(detail(&state, record).await?))
}

async fn detail(state: &AppState, record: EventRecord) -> Result<EventDetail, ApiError> {
    let row = record.row();
    let changes = property_changes(&record.changes);
    let code = record.error_code.as_deref();
    let existing_user = match code {
        Some("uniqueness") => {
            let names: Vec<&str> = changes
                .iter()
                .filter(|c| matches!(c.property.as_str(), "userName" | "email" | "emails"))
                .filter_map(|c| c.after.as_str())
                .collect();
            db::provisioning_log::user_named(&state.pool, row.customer_id, &names).await?
        }
        _ => None,
    };
    Ok(EventDetail {
        steps: provisioning_health::steps(&row, code),
        troubleshooting: provisioning_health::troubleshooting(code, existing_user),
        changes,
        user_id: record.user_id,
        identity_provider: record.identity_provider(),
        token_name: record.token_name.clone(),
        client_address: record.client_address.clone(),
        http_status: record.http_status.and_then(|s| u16::try_from(s).ok()),
        event: row,
    })
}

/// `{"property": {"before": …, "after": …}}` as a list, in the stored order.
fn property_changes(text: &str) -> Vec<PropertyChange> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) else {
        return vec![];
    };
    map.into_iter()
        .map(|(property, change)| PropertyChange {
            property,
            before: change.get("before").cloned().unwrap_or_default(),
            after: change.get("after").cloned().unwrap_or_default(),
        })
        .collect()
}

/// Every customer's provisioning status in scope (`customer` for one, with its hourly chart).
#[utoipa::path(get, path = "/api/v1/provisioning/status", tag = "provisioning",
    params(("customer" = Option<i64>, Query, description = "One customer's status, with the last 24 hours by hour")),
    responses((status = 200, body = Vec<ProvisioningStatus>),
              (status = 400, description = "A parameter is invalid", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "The customer is not in the caller's scope", body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<ProvisioningStatus>>, ApiError> {
    let pairs = decode_pairs(raw.as_deref().unwrap_or(""))?;
    if let Some((key, _)) = pairs.iter().find(|(k, _)| k != "customer") {
        return Err(QueryError::new("query", format!("unknown parameter '{key}'")).into());
    }
    let scope = match value(&pairs, "customer") {
        Some(text) => {
            let id = text
                .parse::<i64>()
                .map_err(|_| QueryError::new("customer", format!("'{text}' is not an id")))?;
            super::customers::require_in_scope(&state, &admin, id).await?;
            Scope::Customer(id)
        }
        None => admin.scope(),
    };
    Ok(Json(
        provisioning_health::statuses(&state.pool, scope).await?,
    ))
}

/// Who is mailed when the customer's provisioning turns Failing or its token nears expiry.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/provisioning/notifications", tag = "provisioning",
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = NotificationSettings),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "The customer is not in the caller's scope", body = ErrorBody)))]
async fn notifications(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
) -> Result<Json<NotificationSettings>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    let (recipients, _) = db::provisioning_status::notification(&state.pool, customer_id).await?;
    Ok(Json(NotificationSettings { recipients }))
}

/// Sets the recipients (an empty list turns notifications off). MSP admins and the
/// customer's admins.
#[utoipa::path(put, path = "/api/v1/customers/{customer_id}/provisioning/notifications", tag = "provisioning",
    params(("customer_id" = i64, Path)), request_body = NotificationSettings,
    responses((status = 200, body = NotificationSettings),
              (status = 400, description = "An address is invalid", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 403, description = "Read-only admins cannot change it", body = ErrorBody),
              (status = 404, description = "The customer is not in the caller's scope", body = ErrorBody)))]
async fn set_notifications(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(settings): ApiJson<NotificationSettings>,
) -> Result<Json<NotificationSettings>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    if admin.role == Role::ReadOnly {
        return Err(ApiError::Forbidden(
            "only MSP admins and the customer's admins change notifications",
        ));
    }
    if settings.recipients.iter().any(|r| r.trim().is_empty()) {
        return Err(ApiError::bad_request(
            "recipients",
            "An address is empty; remove it (an empty list turns notifications off).",
        ));
    }
    let recipients = if settings.recipients.is_empty() {
        vec![]
    } else {
        super::subscriptions::recipients(&settings.recipients)?
    };
    db::provisioning_status::set_recipients(&state.pool, customer_id, &recipients).await?;
    let detail = format!(
        "customer {customer_id}: provisioning notifications to {}",
        if recipients.is_empty() {
            "nobody".to_owned()
        } else {
            recipients.join(", ")
        }
    );
    db::audit::record(
        &state.pool,
        admin.actor(),
        "provisioning.notifications",
        &detail,
        address.as_deref(),
    )
    .await?;
    Ok(Json(NotificationSettings { recipients }))
}
