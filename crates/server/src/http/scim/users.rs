//! `/scim/v2/Users`: list with filter and paging, read, create, replace, patch, delete.
//!
//! `active: false` preserves the user (status and license `preserved`, data kept, still served
//! with `active: false`); `active: true` restores them. DELETE also keeps the user's data in
//! Provisio, preserved, but the SCIM resource is gone (404 afterwards).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::attributes::{apply_patch, fields_from_resource, ADDRESS_TYPE, ENTERPRISE_SCHEMA};
use super::filter::{condition, Resource};
use super::projection::ListParams;
use super::response::{etag, list_response, not_modified, resource_json};
use super::write::{not_found, ScimResource};
use super::{ScimClient, ScimError};
use crate::db;
use crate::db::provisioning::Change;
use crate::db::scim_users::{Directory, Home, ScimUser, UserFields, DIRECTORY_ATTRIBUTES};
use crate::db::WriteTransaction;
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
        .ok_or_else(|| not_found::<Users>(&id))?;
    if let Some(unchanged) = not_modified(&headers, user.version) {
        return Ok(unchanged);
    }
    Ok(resource_json(
        StatusCode::OK,
        &params.project(resource(&user)),
        user.version,
    ))
}

/// Users on the SCIM write path.
pub struct Users;

impl ScimResource for Users {
    type Fields = UserFields;
    type Stored = ScimUser;
    const NOUN: &'static str = "user";
    const CREATE: &'static str = "create";
    const UPDATE: &'static str = "update";
    const DELETE: &'static str = "delete";

    fn from_resource(body: &Value) -> Result<UserFields, ScimError> {
        fields_from_resource(body)
    }

    fn apply_patch(fields: &mut UserFields, body: &Value) -> Result<(), ScimError> {
        apply_patch(fields, body)
    }

    fn external_id(fields: &UserFields) -> Option<&str> {
        fields.external_id.as_deref()
    }

    fn identity(fields: &UserFields) -> String {
        match fields
            .display_name
            .as_deref()
            .filter(|name| !name.is_empty())
        {
            Some(name) => format!("{name} ({})", fields.email),
            None => fields.email.clone(),
        }
    }

    fn fields(stored: &ScimUser) -> UserFields {
        stored.fields.clone()
    }

    fn version(stored: &ScimUser) -> i64 {
        stored.version
    }

    fn id(stored: &ScimUser) -> String {
        stored.scim_id.clone()
    }

    fn to_resource(stored: &ScimUser) -> Value {
        resource(stored)
    }

    fn changes(before: Option<&UserFields>, after: &UserFields) -> Value {
        changes(before, after)
    }

    fn deletion(before: &UserFields) -> Value {
        json!({"active": {"before": before.active, "after": false}})
    }

    fn placed_users(id: &str, _: Option<&UserFields>, _: Option<&UserFields>) -> Vec<String> {
        vec![id.to_owned()]
    }

    fn update_action(before: &UserFields, after: &UserFields) -> &'static str {
        match (before.active, after.active) {
            (true, false) => "preserve",
            (false, true) => "restore",
            _ => "update",
        }
    }

    async fn load(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
    ) -> Result<Option<ScimUser>, sqlx::Error> {
        db::scim_users::find(&mut *tx, customer_id, id).await
    }

    async fn check(
        tx: &mut WriteTransaction,
        customer_id: i64,
        fields: &UserFields,
        except: Option<&str>,
    ) -> Result<(), ScimError> {
        match db::scim_users::taken(&mut *tx, customer_id, fields, except).await? {
            None => Ok(()),
            Some(attribute) if except.is_none() => Err(ScimError::conflict(format!(
                "A user with this {attribute} already exists and is provisioned through SCIM: \
                 find it with a filter on {attribute} and update it, or unassign it from the \
                 connection that manages it first."
            ))),
            Some(attribute) => Err(ScimError::conflict(format!(
                "Another user has this {attribute}."
            ))),
        }
    }

    async fn insert(
        tx: &mut WriteTransaction,
        client: &ScimClient,
        fields: &UserFields,
        change: &Change<'_>,
    ) -> Result<ScimUser, sqlx::Error> {
        db::scim_users::insert(
            &mut *tx,
            client.customer_id,
            fields,
            client.managed_by,
            change,
        )
        .await
    }

    /// A returning user (SCIM deleted them, so they are preserved) is re-assigned; a user
    /// Provisio holds from elsewhere (AD/LDAP, by hand) is claimed. Either keeps their data and
    /// creation date and becomes managed by this token's identity provider.
    async fn adopt(
        tx: &mut WriteTransaction,
        client: &ScimClient,
        fields: &UserFields,
        source_id: Option<&str>,
    ) -> Result<Option<ScimUser>, ScimError> {
        let Some(claimed) = db::scim_users::claimable(&mut *tx, client.customer_id, fields).await?
        else {
            return Ok(None);
        };
        // The resource it becomes must not clash with another live one.
        Self::check(
            &mut *tx,
            client.customer_id,
            fields,
            claimed.scim_id.as_deref(),
        )
        .await?;
        let (action, how) = match claimed.scim_id {
            Some(_) => ("restore", "re-assigned"),
            None => ("match", "matched existing user"),
        };
        let mut changes = Self::changes(None, fields);
        if let Some(changes) = changes.as_object_mut() {
            changes.insert(
                "managedBy".to_owned(),
                json!({"before": claimed.managed_by, "after": client.managed_by}),
            );
            changes.insert("match".to_owned(), json!({"before": null, "after": how}));
        }
        let change = Change {
            token_id: client.token_id,
            action,
            identity: Self::identity(fields),
            source_id,
            changes,
            origin: &client.origin,
        };
        let stored = db::scim_users::relink(
            &mut *tx,
            client.customer_id,
            &claimed,
            fields,
            client.managed_by,
            &change,
        )
        .await?;
        Ok(Some(stored))
    }

    async fn update(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
        version: i64,
        fields: &UserFields,
        change: &Change<'_>,
    ) -> Result<Option<ScimUser>, sqlx::Error> {
        db::scim_users::update(&mut *tx, customer_id, id, version, fields, change).await
    }

    async fn delete(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
        version: i64,
        change: &Change<'_>,
    ) -> Result<bool, sqlx::Error> {
        db::scim_users::delete(&mut *tx, customer_id, id, version, change).await
    }
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
    let describe = |f: &UserFields| {
        let mut described = describe(f);
        for (name, _) in DIRECTORY_ATTRIBUTES {
            described[name] = json!(f.directory.get(name));
        }
        described
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
    add_directory(&mut value, &f.directory);
    value
}

/// The directory attributes where SCIM has them: core ones at the top, the enterprise
/// extension as its own object (and schema), the work address in `addresses`.
fn add_directory(value: &mut Value, directory: &Directory) {
    let mut enterprise = serde_json::Map::new();
    let mut address = serde_json::Map::new();
    for (name, home) in DIRECTORY_ATTRIBUTES {
        let Some(attribute) = directory.get(name) else {
            continue;
        };
        match home {
            Home::Core => value[name] = json!(attribute),
            Home::Enterprise => {
                enterprise.insert(name.into(), json!(attribute));
            }
            Home::WorkAddress => {
                address.insert(name.into(), json!(attribute));
            }
        }
    }
    if !enterprise.is_empty() {
        value[ENTERPRISE_SCHEMA] = Value::Object(enterprise);
        if let Some(schemas) = value["schemas"].as_array_mut() {
            schemas.push(json!(ENTERPRISE_SCHEMA));
        }
    }
    if !address.is_empty() {
        let kind = directory.get(ADDRESS_TYPE).map_or("work", String::as_str);
        address.insert("type".into(), json!(kind));
        value["addresses"] = json!([address]);
    }
}
