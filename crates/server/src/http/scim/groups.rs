//! `/scim/v2/Groups`: a customer's groups and their members, which mapping rules match on.
//!
//! Members are the customer's live SCIM users, by id. Adding an id that is not one is refused
//! with `invalidValue`; removing one that is not a member is a no-op, as IdPs retry removals.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use scim_v2::filter::PatchPath;
use serde_json::{json, Map, Value};

use super::attributes::{operations, text, unknown_op, Operation};
use super::filter::{condition, dotted, patch_path, value_test, Resource};
use super::projection::ListParams;
use super::response::{etag, list_response, not_modified, resource_json};
use super::write::{not_found, ScimResource};
use super::{ScimClient, ScimError};
use crate::db;
use crate::db::provisioning::Change;
use crate::db::scim_groups::{GroupFields, ScimGroup};
use crate::db::WriteTransaction;
use crate::AppState;

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

pub async fn list(
    State(state): State<AppState>,
    client: ScimClient,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    let (start_index, count) = params.page()?;
    let condition = params
        .filter()
        .map(|filter| condition(filter, Resource::Group))
        .transpose()?;
    let with_members = !params.excludes("members");
    let (groups, total) = db::scim_groups::list(
        &state.pool,
        client.customer_id,
        condition.as_ref(),
        start_index,
        count,
        with_members,
    )
    .await?;
    let resources = groups
        .iter()
        .map(|g| params.project(resource(g, with_members)))
        .collect();
    Ok(list_response(resources, total, start_index))
}

pub async fn fetch(
    State(state): State<AppState>,
    client: ScimClient,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, ScimError> {
    let with_members = !params.excludes("members");
    let group = db::scim_groups::find(&state.pool, client.customer_id, &id, with_members)
        .await?
        .ok_or_else(|| not_found::<Groups>(&id))?;
    if let Some(unchanged) = not_modified(&headers, group.version) {
        return Ok(unchanged);
    }
    Ok(resource_json(
        StatusCode::OK,
        &params.project(resource(&group, with_members)),
        group.version,
    ))
}

/// Groups on the SCIM write path.
pub struct Groups;

impl ScimResource for Groups {
    type Fields = GroupFields;
    type Stored = ScimGroup;
    const NOUN: &'static str = "group";
    const CREATE: &'static str = "create_group";
    const UPDATE: &'static str = "update_group";
    const DELETE: &'static str = "delete_group";

    fn from_resource(body: &Value) -> Result<GroupFields, ScimError> {
        fields_from_resource(body)
    }

    fn apply_patch(fields: &mut GroupFields, body: &Value) -> Result<(), ScimError> {
        apply_patch(fields, body)
    }

    fn external_id(fields: &GroupFields) -> Option<&str> {
        fields.external_id.as_deref()
    }

    fn identity(fields: &GroupFields) -> String {
        fields.display_name.clone()
    }

    fn fields(stored: &ScimGroup) -> GroupFields {
        stored.fields()
    }

    fn version(stored: &ScimGroup) -> i64 {
        stored.version
    }

    fn id(stored: &ScimGroup) -> String {
        stored.scim_id.clone()
    }

    fn to_resource(stored: &ScimGroup) -> Value {
        resource(stored, true)
    }

    fn changes(before: Option<&GroupFields>, after: &GroupFields) -> Value {
        changes(before.unwrap_or(&GroupFields::default()), after)
    }

    /// Members who joined or left: their groups changed.
    fn placed_users(
        _: &str,
        before: Option<&GroupFields>,
        after: Option<&GroupFields>,
    ) -> Vec<String> {
        let before = before.map_or(&[][..], |b| b.members.as_slice());
        let after = after.map_or(&[][..], |a| a.members.as_slice());
        let joined = after.iter().filter(|m| !before.contains(m));
        let left = before.iter().filter(|m| !after.contains(m));
        joined.chain(left).cloned().collect()
    }

    fn deletion(before: &GroupFields) -> Value {
        json!({"displayName": {"before": before.display_name, "after": null}})
    }

    async fn load(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
    ) -> Result<Option<ScimGroup>, sqlx::Error> {
        db::scim_groups::find_in(&mut *tx, customer_id, id, true).await
    }

    /// A unique name, and members that are this customer's users.
    async fn check(
        tx: &mut WriteTransaction,
        customer_id: i64,
        fields: &GroupFields,
        except: Option<&str>,
    ) -> Result<(), ScimError> {
        if db::scim_groups::name_taken(&mut *tx, customer_id, &fields.display_name, except).await? {
            return Err(ScimError::conflict(
                "A group with this displayName already exists.",
            ));
        }
        let unknown =
            db::scim_groups::unknown_members(&mut *tx, customer_id, &fields.members).await?;
        if let Some(first) = unknown.first() {
            return Err(ScimError::bad(
                "invalidValue",
                format!("members: no user with id {first}."),
            ));
        }
        Ok(())
    }

    async fn insert(
        tx: &mut WriteTransaction,
        client: &ScimClient,
        fields: &GroupFields,
        change: &Change<'_>,
    ) -> Result<ScimGroup, sqlx::Error> {
        db::scim_groups::insert(&mut *tx, client.customer_id, fields, change).await
    }

    async fn update(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
        version: i64,
        fields: &GroupFields,
        change: &Change<'_>,
    ) -> Result<Option<ScimGroup>, sqlx::Error> {
        db::scim_groups::update(&mut *tx, customer_id, id, version, fields, change).await
    }

    async fn delete(
        tx: &mut WriteTransaction,
        customer_id: i64,
        id: &str,
        version: i64,
        change: &Change<'_>,
    ) -> Result<bool, sqlx::Error> {
        db::scim_groups::delete(&mut *tx, customer_id, id, version, change).await
    }
}

/// Reads a POSTed or PUT Group resource.
fn fields_from_resource(body: &Value) -> Result<GroupFields, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "The body must be a JSON object."))?;
    let mut fields = GroupFields::default();
    set_attributes(&mut fields, object, Mode::Replace)?;
    require_name(&fields)?;
    Ok(fields)
}

fn require_name(fields: &GroupFields) -> Result<(), ScimError> {
    if fields.display_name.trim().is_empty() {
        return Err(ScimError::bad("invalidValue", "displayName is required."));
    }
    Ok(())
}

/// How a value lands on the members: appended, or instead of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Add,
    Replace,
}

fn set_attributes(
    fields: &mut GroupFields,
    object: &Map<String, Value>,
    mode: Mode,
) -> Result<(), ScimError> {
    for (key, value) in object {
        let key = key
            .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:Group:")
            .unwrap_or(key);
        match key.to_ascii_lowercase().as_str() {
            "displayname" => {
                fields.display_name = text(value, "displayName")?.unwrap_or_default();
            }
            "externalid" => fields.external_id = text(value, "externalId")?,
            "members" => {
                let ids = member_ids(value)?;
                if mode == Mode::Replace {
                    fields.members.clear();
                }
                add_members(fields, ids);
            }
            // `id`, `schemas`, `meta`: read-only or not kept (Okta sends `id` in renames).
            _ => {}
        }
    }
    Ok(())
}

/// `[{"value": "<id>"}, …]` (or a single such object) as ids.
fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    items
        .iter()
        .map(|item| {
            item.get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ScimError::bad(
                        "invalidValue",
                        "Each member needs a string value (a user id).",
                    )
                })
        })
        .collect()
}

fn add_members(fields: &mut GroupFields, ids: Vec<String>) {
    for id in ids {
        if !fields.members.contains(&id) {
            fields.members.push(id);
        }
    }
}

fn apply_patch(fields: &mut GroupFields, body: &Value) -> Result<(), ScimError> {
    for Operation { op, path, value } in operations(body)? {
        let mode = match op.as_str() {
            "add" => Some(Mode::Add),
            "replace" => Some(Mode::Replace),
            "remove" => None,
            other => return Err(unknown_op(other)),
        };
        match (mode, path) {
            (Some(mode), None) => {
                let object = value.as_object().ok_or_else(|| {
                    ScimError::bad(
                        "invalidValue",
                        "A path-less operation needs an object value.",
                    )
                })?;
                set_attributes(fields, object, mode)?;
            }
            (Some(mode), Some(path)) => {
                let attribute = attribute_of(&path)?;
                let mut object = Map::new();
                object.insert(attribute, value);
                set_attributes(fields, &object, mode)?;
            }
            (None, None) => {
                return Err(ScimError::bad(
                    "noTarget",
                    "A remove operation needs a path.",
                ))
            }
            (None, Some(path)) => remove(fields, &path, &value)?,
        }
    }
    require_name(fields)
}

/// The attribute a plain path names (`displayName`, `members`).
fn attribute_of(path: &str) -> Result<String, ScimError> {
    match patch_path(path)? {
        PatchPath::Attr(attr) => Ok(dotted(&attr)),
        PatchPath::Value(_) => Err(ScimError::bad(
            "invalidPath",
            format!("'{path}' selects members; use it with remove."),
        )),
    }
}

/// `remove` of `members` (all, or those in the value array), `members[value eq "…"]`,
/// or `externalId`.
fn remove(fields: &mut GroupFields, path: &str, value: &Value) -> Result<(), ScimError> {
    let gone: BTreeSet<String> = match patch_path(path)? {
        PatchPath::Attr(attr) if attr.name.eq_ignore_ascii_case("members") => {
            if value.is_null() {
                fields.members.clear();
                return Ok(());
            }
            member_ids(value)?.into_iter().collect()
        }
        PatchPath::Attr(attr) if attr.name.eq_ignore_ascii_case("externalId") => {
            fields.external_id = None;
            return Ok(());
        }
        PatchPath::Attr(attr) if attr.name.eq_ignore_ascii_case("displayName") => {
            return Err(ScimError::bad(
                "mutability",
                "displayName cannot be removed.",
            ));
        }
        PatchPath::Value(value_path) if value_path.attr.name.eq_ignore_ascii_case("members") => {
            let id = value_test(&value_path.filter).ok_or_else(|| {
                ScimError::bad("invalidPath", format!("'{path}' must test members' value."))
            })?;
            BTreeSet::from([id])
        }
        _ => {
            return Err(ScimError::bad(
                "noTarget",
                format!("'{path}' cannot be removed."),
            ))
        }
    };
    fields.members.retain(|m| !gone.contains(m));
    Ok(())
}

/// What differs: the name and external id before and after, and members added and removed.
fn changes(before: &GroupFields, after: &GroupFields) -> Value {
    let mut diff = Map::new();
    if before.display_name != after.display_name {
        diff.insert(
            "displayName".into(),
            json!({"before": before.display_name, "after": after.display_name}),
        );
    }
    if before.external_id != after.external_id {
        diff.insert(
            "externalId".into(),
            json!({"before": before.external_id, "after": after.external_id}),
        );
    }
    let added: Vec<&String> = after
        .members
        .iter()
        .filter(|m| !before.members.contains(m))
        .collect();
    let removed: Vec<&String> = before
        .members
        .iter()
        .filter(|m| !after.members.contains(m))
        .collect();
    if !added.is_empty() || !removed.is_empty() {
        diff.insert(
            "members".into(),
            json!({"added": added, "removed": removed}),
        );
    }
    Value::Object(diff)
}

/// A group as a SCIM resource; `members` left out when excluded.
fn resource(group: &ScimGroup, with_members: bool) -> Value {
    let mut value = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.scim_id,
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "lastModified": group.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "location": format!("/scim/v2/Groups/{}", group.scim_id),
            "version": etag(group.version),
        }
    });
    if let Some(external_id) = &group.external_id {
        value["externalId"] = json!(external_id);
    }
    if with_members {
        value["members"] = group
            .members
            .iter()
            .map(|m| json!({"value": m, "$ref": format!("/scim/v2/Users/{m}")}))
            .collect();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sales() -> GroupFields {
        GroupFields {
            display_name: "Sales".into(),
            external_id: None,
            members: vec!["u1".into(), "u2".into()],
        }
    }

    #[test]
    fn entra_adds_and_removes_members_by_value_arrays() {
        let mut fields = sales();
        apply_patch(
            &mut fields,
            &json!({"Operations": [
                {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u3"}, {"value": "u1"}]},
                {"op": "Remove", "path": "members", "value": [{"value": "u2"}]}
            ]}),
        )
        .expect("applies");
        assert_eq!(fields.members, ["u1", "u3"]);
    }

    #[test]
    fn okta_removes_by_value_filter_renames_path_less_and_replaces_members() {
        let mut fields = sales();
        apply_patch(
            &mut fields,
            &json!({"Operations": [
                {"op": "remove", "path": "members[value eq \"u1\"]"},
                {"op": "replace", "value": {"id": "g1", "displayName": "Sales EMEA"}}
            ]}),
        )
        .expect("applies");
        assert_eq!(fields.members, ["u2"]);
        assert_eq!(fields.display_name, "Sales EMEA");
        apply_patch(
            &mut fields,
            &json!({"Operations": [{"op": "replace", "path": "members", "value": [{"value": "u9"}]}]}),
        )
        .expect("applies");
        assert_eq!(fields.members, ["u9"]);
        apply_patch(
            &mut fields,
            &json!({"Operations": [{"op": "remove", "path": "members"}]}),
        )
        .expect("applies");
        assert!(fields.members.is_empty());
    }

    #[test]
    fn a_group_without_a_name_or_with_a_bad_member_is_refused() {
        let err = fields_from_resource(&json!({"members": []})).expect_err("no name");
        assert!(err.detail().contains("displayName"));
        let err = fields_from_resource(&json!({"displayName": "x", "members": [{"id": 1}]}))
            .expect_err("member without value");
        assert!(err.detail().contains("member"));
        let mut fields = sales();
        let err = apply_patch(
            &mut fields,
            &json!({"Operations": [{"op": "remove", "path": "displayName"}]}),
        )
        .expect_err("name is required");
        assert!(err.detail().contains("displayName"));
    }
}
