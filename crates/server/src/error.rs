//! The HTTP layer's one error type, mapped to a status and the JSON error body in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use provisio_api::report::QueryError;
use provisio_api::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        parameter: &'static str,
        message: String,
    },
    #[error("sign in first")]
    Unauthorized,
    #[error("email or password is incorrect")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// A body names something that does not exist (a customer, an owner, a view): 404.
    #[error("{message}")]
    Missing {
        parameter: &'static str,
        message: String,
    },
    /// A body's proof is wrong (the current password): 403, naming the field.
    #[error("{message}")]
    Denied {
        parameter: &'static str,
        message: String,
    },
    #[error("{message}")]
    Conflict {
        parameter: Option<&'static str>,
        message: String,
    },
    #[error("too many attempts")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("{0}")]
    Internal(&'static str),
    /// A part of the server this request needs is not set up (503).
    #[error("{0}")]
    Unavailable(&'static str),
}

impl ApiError {
    pub fn bad_request(parameter: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            parameter,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    /// A write that lost a race into a unique index is the caller's conflict (409), the same
    /// answer it would have had had the other request finished first; anything else is ours.
    fn from(err: sqlx::Error) -> Self {
        match err.as_database_error() {
            Some(db) if db.is_unique_violation() => {
                let (parameter, message) = unique_conflict(db.constraint(), db.message());
                ApiError::Conflict {
                    parameter,
                    message: message.to_owned(),
                }
            }
            _ => ApiError::Database(err),
        }
    }
}

/// The field and message for a unique constraint: PostgreSQL names its index, SQLite names
/// the columns in its message (`table.column, …`).
fn unique_conflict(index: Option<&str>, message: &str) -> (Option<&'static str>, &'static str) {
    let is = |index_name: &str, columns: &str| {
        index == Some(index_name) || (index.is_none() && message.contains(columns))
    };
    if is("admins_email", "admins.email") {
        (Some("email"), "An admin with this email already exists.")
    } else if is("saved_views_owner_name", "saved_views.") {
        (Some("name"), "You already have a view with this name.")
    } else if is("mappings_name", "mappings.") {
        (
            Some("name"),
            "This customer already has a mapping with this name.",
        )
    } else {
        (None, "This conflicts with a record that already exists.")
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        ApiError::bad_request(err.parameter, err.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadRequest { parameter, message } => (
                StatusCode::BAD_REQUEST,
                ErrorBody::new("invalid_parameter", message.clone(), Some(parameter)),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                ErrorBody::new("unauthorized", "Sign in to continue.", None),
            ),
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                // Never says which of the two was wrong.
                ErrorBody::new("bad_credentials", "Email or password is incorrect.", None),
            ),
            ApiError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                ErrorBody::new("forbidden", *message, None),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorBody::new("not_found", "No such resource.", None),
            ),
            ApiError::Missing { parameter, message } => (
                StatusCode::NOT_FOUND,
                ErrorBody::new("not_found", message.clone(), Some(parameter)),
            ),
            ApiError::Denied { parameter, message } => (
                StatusCode::FORBIDDEN,
                ErrorBody::new("forbidden", message.clone(), Some(parameter)),
            ),
            ApiError::Conflict { parameter, message } => (
                StatusCode::CONFLICT,
                ErrorBody::new("conflict", message.clone(), *parameter),
            ),
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => {
                let minutes = retry_after_seconds.div_ceil(60);
                let body = ErrorBody::new(
                    "too_many_attempts",
                    format!("Too many failed attempts. Try again in {minutes} minute(s)."),
                    None,
                );
                let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                return response;
            }
            ApiError::Database(err) => {
                // The database's own text can reveal schema and data; it goes to the log only.
                tracing::error!(error = %err, "database error");
                (StatusCode::INTERNAL_SERVER_ERROR, internal_body())
            }
            ApiError::Internal(what) => {
                tracing::error!(what, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, internal_body())
            }
            ApiError::Unavailable(what) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorBody::new("unavailable", format!("Not available: {what}."), None),
            ),
        };
        (status, Json(body)).into_response()
    }
}

fn internal_body() -> ErrorBody {
    ErrorBody::new(
        "internal",
        "The server could not complete the request; try again.",
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::unique_conflict;

    #[test]
    fn unique_constraints_name_the_field_in_conflict() {
        assert_eq!(
            unique_conflict(None, "UNIQUE constraint failed: admins.email").0,
            Some("email")
        );
        assert_eq!(
            unique_conflict(
                None,
                "UNIQUE constraint failed: saved_views.owner_admin_id, saved_views.report, saved_views.name"
            )
            .0,
            Some("name")
        );
        assert_eq!(
            unique_conflict(None, "UNIQUE constraint failed: other.x").0,
            None
        );
        let postgres = "duplicate key value violates unique constraint";
        assert_eq!(
            unique_conflict(Some("admins_email"), postgres).0,
            Some("email")
        );
        assert_eq!(
            unique_conflict(Some("mappings_name"), postgres).0,
            Some("name")
        );
        assert_eq!(unique_conflict(Some("users_scim_id"), postgres).0, None);
    }
}
