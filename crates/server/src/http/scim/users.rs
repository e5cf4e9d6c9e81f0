//! `/scim/v2/Users`: list with filter and paging, read, create, replace, patch, delete.
//!
//! `active: false` preserves the user (status and license `preserved`, data kept, still served
//! with `active: false`); `active: true` restores them. DELETE also keeps the user's data in
//! Provisio, preserved, but the SCIM resource is gone (404 afterwards).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::attributes::{apply_patch, fields_from_resource};
use super::filter::{condition, Resource};
use super::{
    check_if_match, etag, list_response, not_modified, resource_json, ListParams, ScimClient,
    ScimError,
};
use crate::db;
use crate::db::provisioning::{Change, Event};
use crate::db::scim_users::{ScimUser, UserFields};
use crate::AppState;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

pub async fn list(
    State(state): State<AppState>,
    client: ScimClient,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    let (start_index, count) = params.page()?;
    let condition = params
        .filter()
        .map(|filter| condition(filter, Resource::User))
        .transpose()?;
    let (users, total) = db::scim_users::list(
        &state.pool,
        client.customer_id,
        condition.as_ref(),
        start_index,
        count,
    )
    .await?;
    let resources = users.iter().map(|u| params.project(resource(u))).collect();
    Ok(list_response(resources, total, start_index))
}

pub async fn fetch(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    let user = db::scim_users::find(&state.pool, client.customer_id, &id)
        .await?
        .ok_or_else(|| no_user(&id))?;
    if let Some(unchanged) = not_modified(&headers, user.version) {
        return Ok(unchanged);
    }
    Ok(resource_json(
        StatusCode::OK,
        &params.project(resource(&user)),
        user.version,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    client: ScimClient,
    body: Bytes,
) -> Result<Response, ScimError> {
    let source = source_id(&body);
    let outcome = async {
        let fields = fields_from_resource(&parse(&body)?)?;
        if let Some(attribute) =
            db::scim_users::taken(&state.pool, client.customer_id, &fields, None).await?
        {
            return Err(ScimError::conflict(format!(
                "A user with this {attribute} already exists."
            )));
        }
        let change = Change {
            token_id: client.token_id,
            action: "create",
            source_id: source.as_deref(),
            changes: changes(None, &fields),
        };
        Ok(db::scim_users::insert(
            &state.pool,
            client.customer_id,
            &fields,
            client.managed_by,
            &change,
        )
        .await?)
    }
    .await;
    let attempted = Attempted {
        action: "create",
        source_id: source.as_deref(),
        target_id: None,
    };
    let outcome = outcome.map(|user| (resource(&user), user.version));
    answer(&state, &client, StatusCode::CREATED, outcome, attempted).await
}

pub async fn replace(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let parsed = parse(&body);
    change(&state, &client, &headers, &id, move |_| {
        fields_from_resource(&parsed?)
    })
    .await
}

pub async fn patch(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let parsed = parse(&body);
    change(&state, &client, &headers, &id, move |stored| {
        let mut fields = stored.clone();
        apply_patch(&mut fields, &parsed?)?;
        Ok(fields)
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ScimError> {
    let stored = db::scim_users::find(&state.pool, client.customer_id, &id)
        .await?
        .ok_or_else(|| no_user(&id))?;
    check_if_match(&headers, stored.version)?;
    let change = Change {
        token_id: client.token_id,
        action: "delete",
        source_id: stored.fields.external_id.as_deref(),
        changes: json!({"active": {"before": stored.fields.active, "after": false}}),
    };
    if !db::scim_users::delete(&state.pool, client.customer_id, &id, &change).await? {
        return Err(no_user(&id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the stored user, computes the new fields, then stores them with what changed.
async fn change(
    state: &AppState,
    client: &ScimClient,
    headers: &HeaderMap,
    id: &str,
    edit: impl FnOnce(&UserFields) -> Result<UserFields, ScimError>,
) -> Result<Response, ScimError> {
    let stored = db::scim_users::find(&state.pool, client.customer_id, id)
        .await?
        .ok_or_else(|| no_user(id))?;
    let source = stored.fields.external_id.as_deref();
    let outcome = async {
        check_if_match(headers, stored.version)?;
        let fields = edit(&stored.fields)?;
        if let Some(attribute) =
            db::scim_users::taken(&state.pool, client.customer_id, &fields, Some(id)).await?
        {
            return Err(ScimError::conflict(format!(
                "Another user has this {attribute}."
            )));
        }
        let change = Change {
            token_id: client.token_id,
            action: match (stored.fields.active, fields.active) {
                (true, false) => "preserve",
                (false, true) => "restore",
                _ => "update",
            },
            source_id: source,
            changes: changes(Some(&stored.fields), &fields),
        };
        db::scim_users::update(&state.pool, client.customer_id, id, &fields, &change)
            .await?
            .ok_or_else(|| no_user(id))
    }
    .await;
    let attempted = Attempted {
        action: "update",
        source_id: source,
        target_id: Some(id),
    };
    let outcome = outcome.map(|user| (resource(&user), user.version));
    answer(state, client, StatusCode::OK, outcome, attempted).await
}

pub(super) fn parse(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|_| ScimError::bad("invalidSyntax", "The body is not valid JSON."))
}

pub(super) fn source_id(body: &Bytes) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("externalId")?
        .as_str()
        .map(str::to_owned)
}

fn no_user(id: &str) -> ScimError {
    ScimError::not_found(format!("No user with id {id}."))
}

/// The properties that differ, each with its value before and after.
fn changes(before: Option<&UserFields>, after: &UserFields) -> Value {
    let describe = |f: &UserFields| {
        json!({
            "userName": f.user_name, "externalId": f.external_id, "givenName": f.given_name,
            "familyName": f.family_name, "displayName": f.report_name(), "email": f.email,
            "active": f.active,
        })
    };
    let after = describe(after);
    let before = before.map(describe).unwrap_or(Value::Null);
    let mut diff = serde_json::Map::new();
    if let Some(properties) = after.as_object() {
        for (key, value) in properties {
            let old = before.get(key).cloned().unwrap_or(Value::Null);
            if &old != value {
                diff.insert(key.clone(), json!({"before": old, "after": value}));
            }
        }
    }
    Value::Object(diff)
}

/// What a request tried, for the provisioning log when it fails.
pub(super) struct Attempted<'a> {
    pub action: &'a str,
    pub source_id: Option<&'a str>,
    pub target_id: Option<&'a str>,
}

/// The answer to a write: the resource with its version, or the error once it is logged
/// (nothing changed, so nothing else is written).
pub(super) async fn answer(
    state: &AppState,
    client: &ScimClient,
    status: StatusCode,
    outcome: Result<(Value, i64), ScimError>,
    attempted: Attempted<'_>,
) -> Result<Response, ScimError> {
    let err = match outcome {
        Ok((body, version)) => return Ok(resource_json(status, &body, version)),
        Err(err) => err,
    };
    db::provisioning::record(
        &state.pool,
        &Event {
            customer_id: client.customer_id,
            token_id: client.token_id,
            action: attempted.action,
            succeeded: false,
            source_id: attempted.source_id,
            target_id: attempted.target_id,
            changes: json!({}),
            error: Some(err.detail()),
        },
    )
    .await?;
    Err(err)
}

/// A user as a SCIM resource.
fn resource(user: &ScimUser) -> Value {
    let f = &user.fields;
    let mut value = json!({
        "schemas": [USER_SCHEMA],
        "id": user.scim_id,
        "userName": f.user_name,
        "active": f.active,
        "emails": [{"value": f.email, "type": f.email_type.as_deref().unwrap_or("work"),
                    "primary": f.email_primary.unwrap_or(true)}],
        "meta": {
            "resourceType": "User",
            "created": user.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "lastModified": user.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "location": format!("/scim/v2/Users/{}", user.scim_id),
            "version": etag(user.version),
        }
    });
    if let Some(external_id) = &f.external_id {
        value["externalId"] = json!(external_id);
    }
    if let Some(display_name) = &f.display_name {
        value["displayName"] = json!(display_name);
    }
    // A removed name is absent, not an object of nulls (RFC 7643 §2.5: unassigned).
    let mut name = serde_json::Map::new();
    if let Some(given) = &f.given_name {
        name.insert("givenName".into(), json!(given));
    }
    if let Some(family) = &f.family_name {
        name.insert("familyName".into(), json!(family));
    }
    if !name.is_empty() {
        value["name"] = Value::Object(name);
    }
    value
}
