//! The HTTP layer's one error type, mapped to a status and the JSON error body in one place.

use axum::http::StatusCode;
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
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        ApiError::BadRequest {
            parameter: err.parameter,
            message: err.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadRequest { parameter, message } => (
                StatusCode::BAD_REQUEST,
                ErrorBody::new("invalid_parameter", message.clone(), Some(parameter)),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorBody::new("not_found", "no such resource", None),
            ),
            ApiError::Database(err) => {
                // The database's own text can reveal schema and data; it goes to the log only.
                tracing::error!(error = %err, "database error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody::new(
                        "internal",
                        "the server could not complete the request; try again",
                        None,
                    ),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
