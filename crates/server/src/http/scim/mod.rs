//! `/scim/v2`: the SCIM 2.0 service provider (RFC 7643/7644) that identity providers call with
//! a bearer token from the token generator. Each token is bound to one customer; every query
//! below is scoped to that customer, so a token can never see or touch another's users.
//!
//! Tenant URL: one `<origin>/scim/v2` for every customer; the token alone decides whose users
//! a request reaches.

mod attributes;
mod discovery;
mod filter;
mod groups;
mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::auth::{client_address, hash_token};
use crate::db;
use crate::AppState;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scim/v2/Users", get(users::list).post(users::create))
        .route(
            "/scim/v2/Users/{id}",
            get(users::fetch)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/scim/v2/Groups", get(groups::list).post(groups::create))
        .route(
            "/scim/v2/Groups/{id}",
            get(groups::fetch)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route(
            "/scim/v2/.search",
            axum::routing::post(|_: ScimClient| async {
                ScimError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    None,
                    "Searching several resource types at once is not supported; \
                     GET /Users or /Groups with a filter.",
                )
            }),
        )
        .route(
            "/scim/v2/{*rest}",
            axum::routing::any(|| async { ScimError::not_found("No such SCIM endpoint.") }),
        )
}

/// An RFC 7644 §3.12 error.
#[derive(Debug)]
pub struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
    /// Seconds a client should wait before retrying (429).
    retry_after: Option<u64>,
}

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> ScimError {
        ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }

    /// An `If-Match` that names another version than the stored one.
    pub fn version_mismatch() -> ScimError {
        ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "The resource changed since the version in If-Match; read it again.",
        )
    }

    fn unauthorized(detail: &str) -> ScimError {
        ScimError::new(StatusCode::UNAUTHORIZED, None, detail)
    }

    fn too_many_requests(wait: std::time::Duration) -> ScimError {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        ScimError {
            retry_after: Some(seconds),
            ..ScimError::new(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                format!("Too many requests with this token; retry after {seconds} s."),
            )
        }
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(err: sqlx::Error) -> Self {
        // Two requests racing to create the same userName or group name: the loser's answer
        // is the same 409 as when the first had finished before it came.
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return ScimError::conflict("A resource with this name already exists.");
            }
        }
        tracing::error!(error = %err, "database error in SCIM");
        ScimError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "The server could not complete the request; retry.",
        )
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = json!(scim_type);
        }
        let mut response = scim_json(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"provisio-scim\""),
            );
        }
        response
    }
}

/// The weak entity tag of a resource version, as `meta.version` and the `ETag` header carry it.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match`/`If-None-Match` header value names this version (or is `*`).
fn names_version(header_value: &str, version: i64) -> bool {
    let wanted = version.to_string();
    header_value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == wanted)
}

/// RFC 7644 §3.14: a write with `If-Match` proceeds only on the version it names.
pub fn check_if_match(headers: &HeaderMap, version: i64) -> Result<(), ScimError> {
    match headers.get(header::IF_MATCH).map(|v| v.to_str()) {
        None => Ok(()),
        Some(Ok(value)) if names_version(value, version) => Ok(()),
        Some(_) => Err(ScimError::version_mismatch()),
    }
}

/// A read with `If-None-Match` naming the current version: 304, no body.
pub fn not_modified(headers: &HeaderMap, version: i64) -> Option<Response> {
    let value = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    names_version(value, version).then(|| {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
            response.headers_mut().insert(header::ETAG, tag);
        }
        response
    })
}

/// One resource as a SCIM JSON answer with its `ETag` (and `Location` when created).
pub fn resource_json(status: StatusCode, body: &Value, version: i64) -> Response {
    let mut response = scim_json(status, body);
    if let Ok(tag) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    if status == StatusCode::CREATED {
        if let Some(location) = body["meta"]["location"]
            .as_str()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// A SCIM JSON answer.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, SCIM_CONTENT_TYPE)],
        body.to_string(),
    )
        .into_response()
}

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

/// A ListResponse page.
pub fn list_response(resources: Vec<Value>, total: i64, start_index: i64) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

/// The identity provider behind a request: its token's customer and "Managed By".
#[derive(Debug, Clone)]
pub struct ScimClient {
    pub token_id: i64,
    pub customer_id: i64,
    pub managed_by: &'static str,
}

impl FromRequestParts<AppState> for ScimClient {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ScimError::unauthorized("Send the SCIM token as a Bearer token."))?;
        let hash = hash_token(token);
        let grant = db::scim_tokens::find_by_hash(&state.pool, &hash).await?;
        let Some(grant) =
            grant.filter(|g| bool::from(g.token_hash.as_bytes().ct_eq(hash.as_bytes())))
        else {
            return Err(ScimError::unauthorized("The token is not valid."));
        };
        if !grant.usable() {
            return Err(ScimError::unauthorized(
                "The token has expired or was revoked; generate a new one in Provisio.",
            ));
        }
        state
            .scim_rate
            .check(grant.token_id)
            .map_err(ScimError::too_many_requests)?;
        let address = client_address(parts);
        if grant.needs_touch(address.as_deref()) {
            db::scim_tokens::touch(&state.pool, grant.token_id, address.as_deref()).await?;
        }
        Ok(ScimClient {
            token_id: grant.token_id,
            customer_id: grant.customer_id,
            managed_by: grant.identity_provider.0.label(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
