//! `/scim/v2`: the SCIM 2.0 service provider (RFC 7643/7644) that identity providers call with
//! a bearer token from the token generator. Each token is bound to one customer; every query
//! below is scoped to that customer, so a token can never see or touch another's users.
//!
//! Tenant URL: one `<origin>/scim/v2` for every customer; the token alone decides whose users
//! a request reaches.

mod attributes;
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
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/Schemas", get(schemas))
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

    /// Whether `excludedAttributes` names `attribute`.
    pub fn excludes(&self, attribute: &str) -> bool {
        self.excluded_attributes.as_deref().is_some_and(|list| {
            list.split(',')
                .any(|a| a.trim().eq_ignore_ascii_case(attribute))
        })
    }
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
        db::scim_tokens::touch(
            &state.pool,
            grant.token_id,
            client_address(parts).as_deref(),
        )
        .await?;
        Ok(ScimClient {
            token_id: grant.token_id,
            customer_id: grant.customer_id,
            managed_by: grant.identity_provider.0.label(),
        })
    }
}

async fn service_provider_config(_: ScimClient) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_COUNT},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": true},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A token from Provisio's SCIM provisioning page",
                "primary": true
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"}
        }),
    )
}

async fn resource_types(_: ScimClient) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
            "Resources": [{
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "User", "name": "User", "endpoint": "/Users",
                "schema": users::USER_SCHEMA,
                "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/User"}
            }, {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": "Group", "name": "Group", "endpoint": "/Groups",
                "schema": groups::GROUP_SCHEMA,
                "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/Group"}
            }]
        }),
    )
}

async fn schemas(_: ScimClient) -> Response {
    let attribute = |name: &str, kind: &str, required: bool, uniqueness: &str| {
        json!({"name": name, "type": kind, "multiValued": false, "required": required,
               "caseExact": false, "mutability": "readWrite", "returned": "default",
               "uniqueness": uniqueness})
    };
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
            "Resources": [{
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                "id": users::USER_SCHEMA, "name": "User", "description": "User Account",
                "attributes": [
                    attribute("userName", "string", true, "server"),
                    attribute("externalId", "string", false, "none"),
                    attribute("displayName", "string", false, "none"),
                    attribute("active", "boolean", false, "none"),
                    {"name": "name", "type": "complex", "multiValued": false, "required": false,
                     "mutability": "readWrite", "returned": "default",
                     "subAttributes": [attribute("givenName", "string", false, "none"),
                                       attribute("familyName", "string", false, "none")]},
                    {"name": "emails", "type": "complex", "multiValued": true, "required": true,
                     "mutability": "readWrite", "returned": "default",
                     "subAttributes": [attribute("value", "string", true, "none"),
                                       attribute("type", "string", false, "none"),
                                       attribute("primary", "boolean", false, "none")]}
                ],
                "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{}", users::USER_SCHEMA)}
            }, {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                "id": groups::GROUP_SCHEMA, "name": "Group", "description": "Group",
                "attributes": [
                    attribute("displayName", "string", true, "server"),
                    attribute("externalId", "string", false, "none"),
                    {"name": "members", "type": "complex", "multiValued": true, "required": false,
                     "mutability": "readWrite", "returned": "default",
                     "subAttributes": [
                        {"name": "value", "type": "string", "multiValued": false, "required": false,
                         "caseExact": false, "mutability": "immutable", "returned": "default", "uniqueness": "none"},
                        {"name": "display", "type": "string", "multiValued": false, "required": false,
                         "caseExact": false, "mutability": "readOnly", "returned": "default", "uniqueness": "none"},
                        {"name": "$ref", "type": "reference", "referenceTypes": ["User"], "multiValued": false,
                         "required": false, "caseExact": false, "mutability": "immutable", "returned": "default", "uniqueness": "none"}
                     ]}
                ],
                "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{}", groups::GROUP_SCHEMA)}
            }]
        }),
    )
}
