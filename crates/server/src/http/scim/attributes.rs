//! SCIM User attributes in and out of [`UserFields`]: full resources (POST, PUT) and PATCH
//! operations with the quirks Entra ID and Okta send.
//!
//! Bodies are read as plain JSON rather than strict models because identity providers send
//! values a strict model refuses (`"active": "False"`, `"op": "Replace"`, dotted keys in a
//! path-less value); the path grammar comes from the `scim_v2` crate.

use scim_v2::filter::PatchPath;
use serde_json::{Map, Value};

use super::filter::{dotted, patch_path};
use super::ScimError;
use crate::db::scim_users::{directory_attribute, Home, UserFields};

/// Where the kept address's `type` is remembered among the directory attributes.
pub const ADDRESS_TYPE: &str = "addresses.type";

/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Reads a POSTed or PUT User resource.
pub fn fields_from_resource(body: &Value) -> Result<UserFields, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "The body must be a JSON object."))?;
    let mut fields = UserFields {
        active: true,
        ..UserFields::default()
    };
    for (key, value) in object {
        set_attribute(&mut fields, key, value)?;
    }
    check(&fields)?;
    Ok(fields)
}

/// What every stored user must have.
pub fn check(fields: &UserFields) -> Result<(), ScimError> {
    if fields.user_name.trim().is_empty() {
        return Err(ScimError::bad("invalidValue", "userName is required."));
    }
    if fields.email.trim().is_empty() {
        return Err(ScimError::bad(
            "invalidValue",
            "emails is required: Provisio needs a work email for every user.",
        ));
    }
    Ok(())
}

/// Applies one attribute by its (possibly dotted, possibly schema-qualified) name.
fn set_attribute(fields: &mut UserFields, key: &str, value: &Value) -> Result<(), ScimError> {
    let key = key
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:User:")
        .unwrap_or(key);
    // Entra's path form `urn:…:enterprise:2.0:User:department`, or the extension's object.
    if let Some(rest) = strip_prefix_ignore_case(key, ENTERPRISE_SCHEMA) {
        return match rest.strip_prefix(':') {
            Some(name) => set_attribute(fields, name, value),
            None if rest.is_empty() => set_enterprise(fields, value),
            None => Ok(()),
        };
    }
    if let Some((name, _)) = directory_attribute(key) {
        set_directory(fields, name, text(value, name)?);
        return Ok(());
    }
    match key.to_ascii_lowercase().as_str() {
        "username" => fields.user_name = text(value, "userName")?.unwrap_or_default(),
        "externalid" => fields.external_id = text(value, "externalId")?,
        "displayname" => fields.display_name = text(value, "displayName")?,
        "name.givenname" => fields.given_name = text(value, "name.givenName")?,
        "name.familyname" => fields.family_name = text(value, "name.familyName")?,
        "name" => match value {
            Value::Object(name) => {
                for (sub, v) in name {
                    set_attribute(fields, &format!("name.{sub}"), v)?;
                }
            }
            Value::Null => (fields.given_name, fields.family_name) = (None, None),
            _ => return Err(ScimError::bad("invalidValue", "name must be an object.")),
        },
        "active" if value.is_null() => {
            return Err(ScimError::bad(
                "mutability",
                "active cannot be removed; replace it with false to preserve the user.",
            ))
        }
        "active" => fields.active = boolean(value)?,
        "emails" => {
            let picked = work_email(value)?;
            fields.email = picked.value.unwrap_or_default();
            fields.email_type = picked.kind;
            fields.email_primary = picked.primary;
        }
        "emails.value" => fields.email = text(value, "emails")?.unwrap_or_default(),
        "addresses" => set_work_address(fields, value)?,
        // Read-only, or attributes Provisio does not keep: accepted and ignored (RFC 7644 §3.3).
        _ => {}
    }
    Ok(())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn set_directory(fields: &mut UserFields, name: &str, value: Option<String>) {
    match value {
        Some(value) => fields.directory.insert(name.to_owned(), value),
        None => fields.directory.remove(name),
    };
}

/// The enterprise extension as an object: each attribute Provisio keeps (others, such as
/// `manager`, are accepted and ignored).
fn set_enterprise(fields: &mut UserFields, value: &Value) -> Result<(), ScimError> {
    match value {
        Value::Object(attributes) => {
            for (key, v) in attributes {
                if let Some((name, Home::Enterprise)) = directory_attribute(key) {
                    set_directory(fields, name, text(v, name)?);
                }
            }
            Ok(())
        }
        Value::Null => {
            for (name, home) in crate::db::scim_users::DIRECTORY_ATTRIBUTES {
                if home == Home::Enterprise {
                    fields.directory.remove(name);
                }
            }
            Ok(())
        }
        _ => Err(ScimError::bad(
            "invalidValue",
            format!("{ENTERPRISE_SCHEMA} must be an object."),
        )),
    }
}

/// `addresses`: the work address (else the primary, else the first) gives locality, region
/// and country.
fn set_work_address(fields: &mut UserFields, value: &Value) -> Result<(), ScimError> {
    let addresses = match value {
        Value::Null => &[][..],
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let is = |a: &&Value, key: &str, wanted: &Value| a.get(key) == Some(wanted);
    let chosen = addresses
        .iter()
        .find(|a| is(a, "type", &Value::from("work")))
        .or_else(|| {
            addresses
                .iter()
                .find(|a| is(a, "primary", &Value::Bool(true)))
        })
        .or_else(|| addresses.first());
    for (name, home) in crate::db::scim_users::DIRECTORY_ATTRIBUTES {
        if home == Home::WorkAddress {
            let part = chosen.and_then(|a| a.get(name)).unwrap_or(&Value::Null);
            set_directory(fields, name, text(part, &format!("addresses.{name}"))?);
        }
    }
    // The address's type as sent, so it reads back as it was written.
    let kind = chosen.and_then(|a| a.get("type")).unwrap_or(&Value::Null);
    set_directory(fields, ADDRESS_TYPE, text(kind, "addresses.type")?);
    Ok(())
}

pub fn text(value: &Value, attribute: &str) -> Result<Option<String>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Value::Array(values) if values.len() == 1 => text(&values[0], attribute),
        Value::Object(map) if map.contains_key("value") => text(&map["value"], attribute),
        _ => Err(ScimError::bad(
            "invalidValue",
            format!("{attribute} must be a string."),
        )),
    }
}

/// `true`, `false`, or the strings Entra ID sends ("True", "False").
fn boolean(value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::bad(
            "invalidValue",
            "active must be true or false.",
        )),
    }
}

/// The email Provisio keeps, with its type and primary flag as sent.
struct PickedEmail {
    value: Option<String>,
    kind: Option<String>,
    primary: Option<bool>,
}

/// The primary email, else the work one, else the first.
fn work_email(value: &Value) -> Result<PickedEmail, ScimError> {
    let Some(emails) = value.as_array() else {
        return Ok(PickedEmail {
            value: text(value, "emails")?,
            kind: None,
            primary: None,
        });
    };
    let pick = emails
        .iter()
        .find(|e| {
            e.get("primary")
                .is_some_and(|p| boolean(p).unwrap_or(false))
        })
        .or_else(|| {
            emails
                .iter()
                .find(|e| e.get("type").and_then(Value::as_str) == Some("work"))
        })
        .or_else(|| emails.first());
    match pick {
        Some(email) => Ok(PickedEmail {
            value: text(email.get("value").unwrap_or(&Value::Null), "emails")?,
            kind: email.get("type").and_then(Value::as_str).map(str::to_owned),
            primary: email.get("primary").and_then(|p| boolean(p).ok()),
        }),
        None => Ok(PickedEmail {
            value: None,
            kind: None,
            primary: None,
        }),
    }
}

/// One PATCH operation, with its op lower-cased (IdPs send `Replace`, `Add`…).
pub struct Operation {
    pub op: String,
    pub path: Option<String>,
    pub value: Value,
}

/// A PATCH request's `Operations`.
pub fn operations(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "A PATCH needs an Operations array."))?;
    operations
        .iter()
        .map(|operation| {
            let op = operation
                .get("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .ok_or_else(|| ScimError::bad("invalidSyntax", "Each operation needs an op."))?;
            Ok(Operation {
                op,
                path: operation
                    .get("path")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                value: operation.get("value").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// The op names a PATCH may use, for the error about any other.
pub fn unknown_op(op: &str) -> ScimError {
    ScimError::bad(
        "invalidSyntax",
        format!("'{op}' is not a PATCH op; use add, replace or remove."),
    )
}

/// Applies a PATCH request's `Operations` to the stored fields.
pub fn apply_patch(fields: &mut UserFields, body: &Value) -> Result<(), ScimError> {
    for Operation { op, path, value } in operations(body)? {
        let path = path.as_deref();
        match (op.as_str(), path) {
            ("add" | "replace", None) => {
                let object: &Map<String, Value> = value.as_object().ok_or_else(|| {
                    ScimError::bad(
                        "invalidValue",
                        "A path-less operation needs an object value.",
                    )
                })?;
                for (key, v) in object {
                    set_attribute(fields, key, v)?;
                }
            }
            ("add" | "replace", Some(path)) => set_path(fields, path, &value)?,
            ("remove", Some(path)) => set_path(fields, path, &Value::Null)?,
            ("remove", None) => {
                return Err(ScimError::bad(
                    "noTarget",
                    "A remove operation needs a path.",
                ))
            }
            (other, _) => return Err(unknown_op(other)),
        }
    }
    check(fields)
}

fn set_path(fields: &mut UserFields, path: &str, value: &Value) -> Result<(), ScimError> {
    // The whole extension by its URN (the grammar would read its last part as an attribute).
    if path.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
        return set_enterprise(fields, value);
    }
    match patch_path(path)? {
        PatchPath::Attr(attr) => set_attribute(fields, &dotted(&attr), value),
        // emails[type eq "work"].value, or the whole matching email.
        PatchPath::Value(value_path) if value_path.attr.name.eq_ignore_ascii_case("emails") => {
            let email = match value {
                Value::Object(map) => map.get("value").cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            set_attribute(fields, "emails.value", &email)
        }
        // addresses[type eq "work"].locality, or the whole work address.
        PatchPath::Value(value_path) if value_path.attr.name.eq_ignore_ascii_case("addresses") => {
            match &value_path.sub_attr {
                Some(sub) => match directory_attribute(sub) {
                    Some((name, Home::WorkAddress)) => {
                        set_directory(fields, name, text(value, name)?);
                        Ok(())
                    }
                    _ => Ok(()),
                },
                None => {
                    let mut address = value.clone();
                    if let Value::Object(map) = &mut address {
                        map.entry("type").or_insert_with(|| "work".into());
                    }
                    set_work_address(fields, &address)
                }
            }
        }
        PatchPath::Value(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> UserFields {
        UserFields {
            user_name: "ada@contoso.example".into(),
            email: "ada@contoso.example".into(),
            active: true,
            ..UserFields::default()
        }
    }

    #[test]
    fn entra_style_patches_with_capitalised_ops_string_booleans_and_dotted_keys() {
        let mut fields = stored();
        apply_patch(
            &mut fields,
            &json!({"Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "replace", "value": {"name.givenName": "Ada", "name.familyName": "Lovelace"}},
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ada.l@contoso.example"},
                {"op": "replace", "path": "displayName", "value": "Ada L."}
            ]}),
        )
        .expect("applies");
        assert!(!fields.active);
        assert_eq!(fields.given_name.as_deref(), Some("Ada"));
        assert_eq!(fields.email, "ada.l@contoso.example");
        assert_eq!(fields.report_name(), "Ada L.");
    }

    #[test]
    fn directory_attributes_arrive_in_every_form_idps_send() {
        let created = fields_from_resource(&json!({
            "userName": "ada@contoso.example",
            "emails": [{"value": "ada@contoso.example"}],
            "title": "Analyst", "userType": "Member", "preferredLanguage": "en-GB",
            ENTERPRISE_SCHEMA: {"department": "Finance", "costCenter": "CC-7",
                                "manager": {"value": "m1"}},
            "addresses": [{"type": "home", "locality": "Leeds"},
                          {"type": "work", "locality": "London", "country": "GB"}]
        }))
        .expect("reads");
        let get = |name: &str| created.directory.get(name).map(String::as_str);
        assert_eq!(get("title"), Some("Analyst"));
        assert_eq!(get("department"), Some("Finance"));
        assert_eq!(get("costCenter"), Some("CC-7"));
        assert_eq!(get("locality"), Some("London"));
        assert_eq!(get("country"), Some("GB"));
        assert_eq!(get("region"), None);

        let mut fields = created;
        apply_patch(
            &mut fields,
            &json!({"Operations": [
                {"op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:department"), "value": "Sales"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Paris"},
                {"op": "replace", "value": {format!("{ENTERPRISE_SCHEMA}:division"): "EMEA",
                                            "userType": "Guest"}},
                {"op": "remove", "path": "title"}
            ]}),
        )
        .expect("applies");
        let get = |name: &str| fields.directory.get(name).map(String::as_str);
        assert_eq!(get("department"), Some("Sales"));
        assert_eq!(get("locality"), Some("Paris"));
        assert_eq!(get("division"), Some("EMEA"));
        assert_eq!(get("userType"), Some("Guest"));
        assert_eq!(get("title"), None);
    }

    #[test]
    fn okta_style_path_less_active_and_removing_the_email_is_refused() {
        let mut fields = stored();
        apply_patch(
            &mut fields,
            &json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
        )
        .expect("applies");
        assert!(!fields.active);
        let err = apply_patch(
            &mut fields,
            &json!({"Operations": [{"op": "remove", "path": "emails"}]}),
        )
        .expect_err("an email is mandatory");
        assert!(err.detail().contains("emails"));
        let err = apply_patch(
            &mut fields,
            &json!({"Operations": [{"op": "move", "path": "x"}]}),
        )
        .expect_err("unknown op");
        assert!(err.detail().contains("move"));
    }
}
