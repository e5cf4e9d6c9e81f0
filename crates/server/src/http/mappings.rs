//! `/api/v1/customers/{customer_id}/mappings`: the mapping editor's API. MSP admins and the
//! customer's admins change mappings; read-only admins see them. Every change starts a job
//! that re-places the customer's SCIM users in the background (its progress at
//! `…/mappings/jobs/{id}`), and is audited.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use provisio_api::auth::Role;
use provisio_api::mapping::{
    Mapping, MappingChange, MappingExplanation, MappingJob, MappingOptions, MappingOrderRequest,
    MappingPreview, MappingPreviewRequest, MappingSettings, MappingVerdict, Matcher, Placement,
    ProposedMapping, SaveMappingRequest, MATCHABLE_ATTRIBUTES, MAX_MAPPINGS,
    MAX_MAPPING_NAME_CHARS, MAX_MATCH_GROUPS, MAX_MATCH_VALUES, MAX_QUOTA_GB,
    MAX_REGION_MOVE_THRESHOLD,
};
use provisio_api::ErrorBody;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::json::{ApiJson, ApiPath};
use super::text::clean;
use crate::auth::{ClientAddress, CurrentAdmin};
use crate::db;
use crate::placement::{self, Rule, Subject};
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mappings, create_mapping))
        .routes(routes!(set_order))
        .routes(routes!(explain))
        .routes(routes!(preview))
        .routes(routes!(options))
        .routes(routes!(job))
        .routes(routes!(set_settings))
        .routes(routes!(update_mapping, delete_mapping))
}

/// The customer's mappings, highest priority first, with how many users each places.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/mappings", tag = "mappings",
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = Vec<Mapping>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_mappings(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
) -> Result<Json<Vec<Mapping>>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    if admin.role != Role::ReadOnly {
        // An admin who may edit is likely to: the first preview should not wait for the
        // customer's users to be decoded.
        let (pool, populations) = (state.pool.clone(), Arc::clone(&state.populations));
        tokio::spawn(async move {
            if let Err(err) = populations.warm(&pool, customer_id).await {
                tracing::warn!(customer_id, error = %err, "decoding users for previews failed");
            }
        });
    }
    Ok(Json(described(&state, customer_id).await?))
}

/// Adds a mapping at the lowest priority and places the customer's users by the new list.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/mappings", tag = "mappings",
    params(("customer_id" = i64, Path)), request_body = SaveMappingRequest,
    responses((status = 201, body = MappingChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody),
              (status = 404, description = "No such customer, or a profile, region or group not of this customer", body = ErrorBody),
              (status = 409, description = "The name is taken, or the customer has the most mappings", body = ErrorBody)))]
async fn create_mapping(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(request): ApiJson<SaveMappingRequest>,
) -> Result<(StatusCode, Json<MappingChange>), ApiError> {
    require_manager(&state, &admin, customer_id).await?;
    let request = validate(request)?;
    let mut tx = db::write_transaction(&state.pool).await?;
    db::customers::lock(&mut tx, customer_id).await?;
    if db::mappings::list(&mut tx, customer_id).await?.len() >= MAX_MAPPINGS {
        return Err(ApiError::Conflict {
            parameter: None,
            message: format!("A customer has at most {MAX_MAPPINGS} mappings."),
        });
    }
    refuse_foreign(&mut tx, customer_id, &request).await?;
    db::mappings::insert(&mut tx, customer_id, &request).await?;
    let job = db::mappings::start_job(&mut tx, customer_id).await?;
    tx.commit().await?;
    crate::reevaluation::spawn(state.pool.clone(), job);
    let detail = format!("customer {customer_id}: added mapping \"{}\"", request.name);
    audit(&state, &admin, address.as_deref(), &detail).await?;
    Ok((
        StatusCode::CREATED,
        Json(changed(&state, customer_id, job).await?),
    ))
}

/// Replaces a mapping (who it matches stays editable) and re-places the customer's users.
#[utoipa::path(put, path = "/api/v1/customers/{customer_id}/mappings/{id}", tag = "mappings",
    params(("customer_id" = i64, Path), ("id" = i64, Path)), request_body = SaveMappingRequest,
    responses((status = 200, body = MappingChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "The name is taken", body = ErrorBody)))]
async fn update_mapping(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath((customer_id, id)): ApiPath<(i64, i64)>,
    ApiJson(request): ApiJson<SaveMappingRequest>,
) -> Result<Json<MappingChange>, ApiError> {
    require_manager(&state, &admin, customer_id).await?;
    let request = validate(request)?;
    let mut tx = db::write_transaction(&state.pool).await?;
    db::customers::lock(&mut tx, customer_id).await?;
    refuse_foreign(&mut tx, customer_id, &request).await?;
    if !db::mappings::update(&mut tx, customer_id, id, &request).await? {
        return Err(ApiError::NotFound);
    }
    let job = db::mappings::start_job(&mut tx, customer_id).await?;
    tx.commit().await?;
    crate::reevaluation::spawn(state.pool.clone(), job);
    let detail = format!(
        "customer {customer_id}: changed mapping {id} \"{}\"",
        request.name
    );
    audit(&state, &admin, address.as_deref(), &detail).await?;
    Ok(Json(changed(&state, customer_id, job).await?))
}

/// Deletes a mapping; its users are placed by the mappings that remain.
#[utoipa::path(delete, path = "/api/v1/customers/{customer_id}/mappings/{id}", tag = "mappings",
    params(("customer_id" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = MappingChange), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn delete_mapping(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath((customer_id, id)): ApiPath<(i64, i64)>,
) -> Result<Json<MappingChange>, ApiError> {
    require_manager(&state, &admin, customer_id).await?;
    let mut tx = db::write_transaction(&state.pool).await?;
    db::customers::lock(&mut tx, customer_id).await?;
    if !db::mappings::delete(&mut tx, customer_id, id).await? {
        return Err(ApiError::NotFound);
    }
    let job = db::mappings::start_job(&mut tx, customer_id).await?;
    tx.commit().await?;
    crate::reevaluation::spawn(state.pool.clone(), job);
    let detail = format!("customer {customer_id}: deleted mapping {id}");
    audit(&state, &admin, address.as_deref(), &detail).await?;
    Ok(Json(changed(&state, customer_id, job).await?))
}

/// Sets the whole priority order at once and re-places the customer's users.
#[utoipa::path(put, path = "/api/v1/customers/{customer_id}/mappings/order", tag = "mappings",
    params(("customer_id" = i64, Path)), request_body = MappingOrderRequest,
    responses((status = 200, body = MappingChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "The order does not name exactly the current mappings; reload them", body = ErrorBody)))]
async fn set_order(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(request): ApiJson<MappingOrderRequest>,
) -> Result<Json<MappingChange>, ApiError> {
    require_manager(&state, &admin, customer_id).await?;
    let mut tx = db::write_transaction(&state.pool).await?;
    db::customers::lock(&mut tx, customer_id).await?;
    if !db::mappings::set_order(&mut tx, customer_id, &request.ids).await? {
        return Err(ApiError::Conflict {
            parameter: Some("ids"),
            message: "The order must name exactly the current mappings, each once; reload them."
                .to_owned(),
        });
    }
    let job = db::mappings::start_job(&mut tx, customer_id).await?;
    tx.commit().await?;
    crate::reevaluation::spawn(state.pool.clone(), job);
    let detail = format!(
        "customer {customer_id}: reordered mappings {:?}",
        request.ids
    );
    audit(&state, &admin, address.as_deref(), &detail).await?;
    Ok(Json(changed(&state, customer_id, job).await?))
}

/// What saving a list of mappings would change, without saving: the diff an editor shows
/// before a save or a reorder is confirmed.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/mappings/preview", tag = "mappings",
    params(("customer_id" = i64, Path)), request_body = MappingPreviewRequest,
    responses((status = 200, body = MappingPreview), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "No such customer, or a profile, region or group not of this customer", body = ErrorBody)))]
async fn preview(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(request): ApiJson<MappingPreviewRequest>,
) -> Result<Json<MappingPreview>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    if request.mappings.len() > MAX_MAPPINGS {
        return Err(ApiError::bad_request(
            "mappings",
            format!("A customer has at most {MAX_MAPPINGS} mappings."),
        ));
    }
    let existing = db::mappings::ids(&state.pool, customer_id).await?;
    let mut proposed = Vec::new();
    for ProposedMapping { id, mapping } in request.mappings {
        if id.is_some_and(|id| !existing.contains(&id)) {
            return Err(ApiError::Missing {
                parameter: "mappings",
                message: "An id names no mapping of this customer; reload the mappings.".into(),
            });
        }
        let mapping = validate(mapping)?;
        refuse_foreign(&state.pool, customer_id, &mapping).await?;
        proposed.push((id, mapping));
    }
    Ok(Json(
        db::mappings::preview(&state.pool, &state.populations, customer_id, &proposed).await?,
    ))
}

/// A re-evaluation's progress: users evaluated of the total, and how many moved.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/mappings/jobs/{id}", tag = "mappings",
    params(("customer_id" = i64, Path), ("id" = i64, Path)),
    responses((status = 200, body = MappingJob), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn job(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath((customer_id, id)): ApiPath<(i64, i64)>,
) -> Result<Json<MappingJob>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    db::mappings::job(&state.pool, customer_id, id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// What the editor offers: the customer's profiles, storage regions and SCIM groups, the
/// attributes to match on, and the region-move threshold.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/mappings/options", tag = "mappings",
    params(("customer_id" = i64, Path)),
    responses((status = 200, body = MappingOptions), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn options(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
) -> Result<Json<MappingOptions>, ApiError> {
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    Ok(Json(db::mappings::options(&state.pool, customer_id).await?))
}

/// Sets how many users a change may move to another storage region before the editor asks
/// for the customer's name.
#[utoipa::path(put, path = "/api/v1/customers/{customer_id}/mappings/settings", tag = "mappings",
    params(("customer_id" = i64, Path)), request_body = MappingSettings,
    responses((status = 200, body = MappingSettings), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_settings(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    ApiJson(request): ApiJson<MappingSettings>,
) -> Result<Json<MappingSettings>, ApiError> {
    require_manager(&state, &admin, customer_id).await?;
    if request.region_move_threshold > MAX_REGION_MOVE_THRESHOLD {
        return Err(ApiError::bad_request(
            "region_move_threshold",
            format!("The threshold is at most {MAX_REGION_MOVE_THRESHOLD}."),
        ));
    }
    db::mappings::set_region_move_threshold(
        &state.pool,
        customer_id,
        request.region_move_threshold,
    )
    .await?;
    let detail = format!(
        "customer {customer_id}: region-move threshold set to {}",
        request.region_move_threshold
    );
    audit(&state, &admin, address.as_deref(), &detail).await?;
    Ok(Json(request))
}

#[derive(Debug, Deserialize)]
struct ExplainQuery {
    /// The user's email.
    email: String,
}

/// "Test a user": each mapping's verdict in priority order, and where the user lands.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/mappings/explain", tag = "mappings",
    params(("customer_id" = i64, Path), ("email" = String, Query, description = "The user's email")),
    responses((status = 200, body = MappingExplanation), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "No such customer, or no SCIM user of it with this email", body = ErrorBody)))]
async fn explain(
    State(state): State<AppState>,
    admin: CurrentAdmin,
    ApiPath(customer_id): ApiPath<i64>,
    query: Result<Query<ExplainQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MappingExplanation>, ApiError> {
    let Query(ExplainQuery { email }) =
        query.map_err(|_| ApiError::bad_request("email", "Give the user's email."))?;
    super::customers::require_in_scope(&state, &admin, customer_id).await?;
    let Some((directory, groups)) =
        db::mappings::subject_by_email(&state.pool, customer_id, &email).await?
    else {
        return Err(ApiError::Missing {
            parameter: "email",
            message: format!("This customer has no SCIM user with the email {email}."),
        });
    };
    let names = db::mappings::group_names(&state.pool, customer_id).await?;
    let mappings = described_by(&state, customer_id, &names).await?;
    let rules: Vec<Rule> = mappings
        .iter()
        .map(|m| Rule {
            id: m.id,
            name: m.name.clone(),
            enabled: m.enabled,
            matcher: m.matcher.clone(),
        })
        .collect();
    let subject = Subject {
        directory: &directory,
        groups: &groups,
    };
    let verdicts = rules
        .iter()
        .map(|rule| verdict_in_words(rule, subject, &names))
        .collect();
    let chosen = placement::place(&rules, subject)
        .and_then(|rule| mappings.iter().find(|m| m.id == rule.id));
    let mut placement = placement_by(chosen, mappings.is_empty());
    if db::users::placed_by_hand(&state.pool, customer_id, &email).await? {
        placement.reason = format!(
            "placed by hand, which overrides the mappings (they would give: {})",
            placement.reason
        );
    }
    Ok(Json(MappingExplanation {
        email,
        verdicts,
        placement,
    }))
}

/// A mapping's verdict on a user, groups named as the admin knows them.
fn verdict_in_words(
    rule: &Rule,
    subject: Subject<'_>,
    group_names: &HashMap<String, String>,
) -> MappingVerdict {
    let (matched, mut because) = placement::verdict(rule, subject);
    // The engine speaks of groups by SCIM id; the admin knows them by name.
    for (id, name) in group_names {
        because = because.replace(id.as_str(), name);
    }
    MappingVerdict {
        mapping_id: rule.id,
        name: rule.name.clone(),
        enabled: rule.enabled,
        matched,
        because: if rule.enabled {
            because
        } else {
            format!("paused ({because})")
        },
    }
}

/// Where the user lands: by the chosen mapping, the customer's defaults, or nowhere.
fn placement_by(chosen: Option<&Mapping>, no_mappings: bool) -> Placement {
    match (chosen, no_mappings) {
        (Some(m), _) => Placement {
            mapping_id: Some(m.id),
            mapping_name: Some(m.name.clone()),
            profile_name: Some(m.profile_name.clone()),
            storage_region_name: Some(m.storage_region_name.clone()),
            quota_gb: m.quota_gb,
            reason: format!("placed by \"{}\" (priority {})", m.name, m.priority),
        },
        (None, true) => unplaced("the customer has no mappings: its default profile and region"),
        (None, false) => unplaced("no mapping matches: the user stays pending"),
    }
}

fn unplaced(reason: &str) -> Placement {
    Placement {
        mapping_id: None,
        mapping_name: None,
        profile_name: None,
        storage_region_name: None,
        quota_gb: None,
        reason: reason.to_owned(),
    }
}

/// What a mapping change answers: the mappings now, and the job placing users by them.
async fn changed(state: &AppState, customer_id: i64, job: i64) -> Result<MappingChange, ApiError> {
    let mappings = described(state, customer_id).await?;
    let job = db::mappings::job(&state.pool, customer_id, job)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(MappingChange { mappings, job })
}

/// The customer's mappings with group mappings described by the groups' names.
async fn described(state: &AppState, customer_id: i64) -> Result<Vec<Mapping>, ApiError> {
    let names = db::mappings::group_names(&state.pool, customer_id).await?;
    described_by(state, customer_id, &names).await
}

/// The customer's mappings described with these group names (SCIM id → name).
async fn described_by(
    state: &AppState,
    customer_id: i64,
    names: &HashMap<String, String>,
) -> Result<Vec<Mapping>, ApiError> {
    let mut mappings = db::mappings::list(&state.pool, customer_id).await?;
    for mapping in &mut mappings {
        mapping.matches_text = mapping
            .matcher
            .describe(|id| names.get(id).cloned().unwrap_or_else(|| id.to_owned()));
    }
    Ok(mappings)
}

/// The request with its name and values cleaned, or a 400 naming what is wrong.
fn validate(mut request: SaveMappingRequest) -> Result<SaveMappingRequest, ApiError> {
    request.name = clean(
        "name",
        &request.name,
        MAX_MAPPING_NAME_CHARS,
        &format!("Name the mapping (1 to {MAX_MAPPING_NAME_CHARS} characters)."),
    )?;
    if request.quota_gb.is_some_and(|q| q == 0 || q > MAX_QUOTA_GB) {
        return Err(ApiError::bad_request(
            "quota_gb",
            format!("A quota is 1 to {MAX_QUOTA_GB} GB, or none for unlimited."),
        ));
    }
    match &mut request.matcher {
        Matcher::All => {}
        Matcher::Groups { groups } => {
            if groups.is_empty() || groups.len() > MAX_MATCH_GROUPS {
                return Err(ApiError::bad_request(
                    "matcher",
                    format!("Choose 1 to {MAX_MATCH_GROUPS} groups."),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            groups.retain(|g| seen.insert(g.clone()));
        }
        Matcher::Attribute {
            attribute, values, ..
        } => {
            let Some(known) = MATCHABLE_ATTRIBUTES
                .iter()
                .find(|a| a.eq_ignore_ascii_case(attribute))
            else {
                return Err(ApiError::bad_request(
                    "matcher",
                    format!("Match on one of: {}.", MATCHABLE_ATTRIBUTES.join(", ")),
                ));
            };
            *attribute = (*known).to_owned();
            if values.is_empty() || values.len() > MAX_MATCH_VALUES {
                return Err(ApiError::bad_request(
                    "matcher",
                    format!("Give 1 to {MAX_MATCH_VALUES} values."),
                ));
            }
            for value in values.iter_mut() {
                *value = clean("matcher", value, 200, "A value is 1 to 200 characters.")?;
            }
        }
    }
    Ok(request)
}

/// A profile, region or group that is not the customer's is not there to be found: 404.
async fn refuse_foreign(
    executor: impl Into<db::Executor<'_>>,
    customer_id: i64,
    request: &SaveMappingRequest,
) -> Result<(), ApiError> {
    match db::mappings::foreign_reference(executor, customer_id, request).await? {
        None => Ok(()),
        Some(parameter) => Err(ApiError::Missing {
            parameter,
            message: format!("{parameter} does not name one of this customer's."),
        }),
    }
}

/// The customer is in scope and the caller may change its mappings.
async fn require_manager(
    state: &AppState,
    admin: &CurrentAdmin,
    customer_id: i64,
) -> Result<(), ApiError> {
    super::customers::require_in_scope(state, admin, customer_id).await?;
    match admin.role {
        Role::MspAdmin | Role::CustomerAdmin => Ok(()),
        Role::ReadOnly => Err(ApiError::Forbidden(
            "only MSP admins and the customer's admins change mappings",
        )),
    }
}

async fn audit(
    state: &AppState,
    admin: &CurrentAdmin,
    address: Option<&str>,
    detail: &str,
) -> Result<(), ApiError> {
    let actor = admin.actor();
    db::audit::record(&state.pool, actor, "mapping.change", detail, address).await?;
    Ok(())
}
