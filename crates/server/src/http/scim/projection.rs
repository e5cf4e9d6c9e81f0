//! The query of a list or read: paging, and which attributes the answer holds (RFC 7644
//! §3.4.2).

use serde::Deserialize;
use serde_json::Value;

use super::error::ScimError;
use super::{groups, users};

/// Most resources one list page returns.
pub const MAX_COUNT: i64 = 200;

/// The query of a list request (RFC 7644 §3.4.2).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    filter: Option<String>,
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

impl ListParams {
    /// `startIndex` (1-based) and `count`: below 1 means 1, a negative count means 0
    /// (§3.4.2.4), and no page is longer than [`MAX_COUNT`].
    pub fn page(&self) -> Result<(i64, i64), ScimError> {
        let number = |text: &Option<String>, default: i64| -> Result<i64, ScimError> {
            match text {
                None => Ok(default),
                Some(t) => t
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ScimError::bad("invalidValue", format!("'{t}' is not a number."))),
            }
        };
        Ok((
            number(&self.start_index, 1)?.max(1),
            number(&self.count, 100)?.clamp(0, MAX_COUNT),
        ))
    }

    /// The filter, when one is given.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref().filter(|f| !f.trim().is_empty())
    }

    /// Whether the answer leaves `attribute` out (`excludedAttributes`, or `attributes`
    /// without it).
    pub fn excludes(&self, attribute: &str) -> bool {
        let names = |list: &Option<String>| attribute_names(list.as_deref());
        names(&self.excluded_attributes)
            .iter()
            .any(|(name, sub)| name == &attribute.to_ascii_lowercase() && sub.is_none())
            || (self.attributes.is_some()
                && !names(&self.attributes)
                    .iter()
                    .any(|(name, _)| name == &attribute.to_ascii_lowercase()))
    }

    /// A resource with only the attributes asked for (§3.4.2.5): `attributes` keeps the
    /// named ones, `excludedAttributes` drops them; `schemas`, `id` and `meta` always stay.
    pub fn project(&self, mut resource: Value) -> Value {
        let Some(object) = resource.as_object_mut() else {
            return resource;
        };
        const ALWAYS: [&str; 3] = ["schemas", "id", "meta"];
        if self.attributes.is_some() {
            let wanted = attribute_names(self.attributes.as_deref());
            object.retain(|key, value| {
                let key = key.to_ascii_lowercase();
                if ALWAYS.contains(&key.as_str()) {
                    return true;
                }
                let subs: Vec<&String> = wanted
                    .iter()
                    .filter(|(name, _)| *name == key)
                    .filter_map(|(_, sub)| sub.as_ref())
                    .collect();
                let whole = wanted
                    .iter()
                    .any(|(name, sub)| *name == key && sub.is_none());
                if !whole && !subs.is_empty() {
                    if let Some(inner) = value.as_object_mut() {
                        inner.retain(|sub, _| subs.contains(&&sub.to_ascii_lowercase()));
                    }
                }
                whole || !subs.is_empty()
            });
        }
        for (name, sub) in attribute_names(self.excluded_attributes.as_deref()) {
            if ALWAYS.contains(&name.as_str()) {
                continue;
            }
            let Some(key) = object
                .keys()
                .find(|k| k.to_ascii_lowercase() == name)
                .cloned()
            else {
                continue;
            };
            match sub {
                None => {
                    object.remove(&key);
                }
                Some(sub) => {
                    if let Some(inner) = object.get_mut(&key).and_then(Value::as_object_mut) {
                        inner.retain(|k, _| k.to_ascii_lowercase() != sub);
                    }
                }
            }
        }
        resource
    }
}

/// `"userName, name.givenName, urn:…:User:emails"` → lower-cased (attribute, sub-attribute).
fn attribute_names(list: Option<&str>) -> Vec<(String, Option<String>)> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            let short = a
                .strip_prefix(users::USER_SCHEMA)
                .or_else(|| a.strip_prefix(groups::GROUP_SCHEMA))
                .map(|rest| rest.trim_start_matches(':'))
                .unwrap_or(a)
                .to_ascii_lowercase();
            match short.split_once('.') {
                Some((name, sub)) => (name.to_owned(), Some(sub.to_owned())),
                None => (short, None),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(attributes: Option<&str>, excluded: Option<&str>) -> ListParams {
        ListParams {
            filter: None,
            start_index: None,
            count: None,
            attributes: attributes.map(str::to_owned),
            excluded_attributes: excluded.map(str::to_owned),
        }
    }

    fn ada() -> Value {
        json!({"schemas": [users::USER_SCHEMA], "id": "1", "userName": "ada", "displayName": "Ada",
               "name": {"givenName": "Ada", "familyName": "Lovelace"}, "meta": {"version": "W/\"1\""}})
    }

    #[test]
    fn attributes_keep_only_what_is_named_and_the_always_returned() {
        let kept = params(Some("userName, name.familyName"), None).project(ada());
        assert_eq!(
            kept,
            json!({"schemas": [users::USER_SCHEMA], "id": "1", "userName": "ada",
                   "name": {"familyName": "Lovelace"}, "meta": {"version": "W/\"1\""}})
        );
        let qualified =
            params(Some(&format!("{}:displayName", users::USER_SCHEMA)), None).project(ada());
        assert_eq!(qualified["displayName"], "Ada");
        assert!(qualified.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_drop_what_is_named_but_never_the_id() {
        let trimmed = params(None, Some("displayName,name.givenName,id")).project(ada());
        assert!(trimmed.get("displayName").is_none());
        assert_eq!(trimmed["name"], json!({"familyName": "Lovelace"}));
        assert_eq!(trimmed["id"], "1");
        assert!(params(None, Some("Members")).excludes("members"));
        assert!(params(Some("displayName"), None).excludes("members"));
        assert!(!params(Some("members"), None).excludes("members"));
    }
}
