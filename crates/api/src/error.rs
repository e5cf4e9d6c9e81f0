//! The JSON body of every error answer of the REST API.

use serde::{Deserialize, Serialize};

/// `{"error": {"code": "invalid_parameter", "message": "...", "parameter": "filter"}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code, such as `invalid_parameter` or `not_found`.
    pub code: String,
    /// A sentence for a person: what was wrong and what to do.
    pub message: String,
    /// The request parameter the error is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>, parameter: Option<&str>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                parameter: parameter.map(str::to_owned),
            },
        }
    }
}
