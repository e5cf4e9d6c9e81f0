//! The SCIM error answer (RFC 7644 §3.12), the one error type of the SCIM layer.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use provisio_api::provisioning::EventStatus;
use serde_json::json;

use super::response::scim_json;

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

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
    pub(super) fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
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

    pub(super) fn unauthorized(detail: &str) -> ScimError {
        ScimError::new(StatusCode::UNAUTHORIZED, None, detail)
    }

    pub(super) fn too_many_requests(wait: std::time::Duration) -> ScimError {
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

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The provisioning log's troubleshooting code for this refusal.
    pub fn code(&self) -> &'static str {
        match (self.status.as_u16(), self.scim_type) {
            (409, _) => "uniqueness",
            (400, Some("invalidSyntax" | "invalidFilter" | "invalidPath")) => "invalid_syntax",
            (400, _) => "invalid_value",
            (412, _) => "stale_version",
            (404, _) => "not_found",
            (401, _) if self.detail.contains("revoked") => "token_revoked",
            (401, _) if self.detail.contains("expired") => "token_expired",
            (401, _) => "unauthorized",
            (429, _) => "rate_limited",
            (501, _) => "not_supported",
            _ => "server_error",
        }
    }

    /// How the log counts the refusal: a rate-limited request is retried by the identity
    /// provider, so it is a warning; every other refusal is a failure.
    pub fn log_status(&self) -> EventStatus {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            EventStatus::Warning
        } else {
            EventStatus::Failure
        }
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
