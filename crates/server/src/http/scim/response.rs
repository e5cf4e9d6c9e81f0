//! SCIM answers: resources with their entity tags, list pages, and conditional requests.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::ScimError;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

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
