//! A JSON body extractor whose rejections use the API's error body (400, naming `body`).

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::ApiError;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::bad_request(
                "body",
                format!(
                    "the request body is not valid JSON for this endpoint: {}",
                    rejection.body_text()
                ),
            )),
        }
    }
}
