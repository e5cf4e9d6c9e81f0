//! Extractors whose rejections use the API's error body: a JSON body (400, naming the field)
//! and path ids (404: a path whose id is not a number names no resource).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ApiError;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(not_valid(
                "Expected request with `Content-Type: application/json`".to_owned(),
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| not_valid(rejection.body_text()))?;
        // Every request body is an object; serde would also read a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(not_valid("the body must be a JSON object".to_owned()));
        }
        // Straight into the type first: fields it does not have are skipped unread, whatever
        // they hold (a number too large for any type, say).
        let direct = match serde_path_to_error::deserialize(
            &mut serde_json::Deserializer::from_slice(&bytes),
        ) {
            Ok(value) => return Ok(ApiJson(value)),
            Err(err) => not_valid(format!("Failed to deserialize the JSON body: {err}")),
        };
        let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(direct);
        };
        integral_floats_as_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|_| direct)
    }
}

/// `application/json`, or a `+json` type such as `application/scim+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 17
            && essence[..12].eq_ignore_ascii_case("application/")
            && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

fn not_valid(detail: String) -> ApiError {
    ApiError::bad_request(
        "body",
        format!("the request body is not valid JSON for this endpoint: {detail}"),
    )
}

/// JSON has one number type: `30.0` is the integer 30 to JSON Schema, so it is to us too.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64()) {
                // Within ±2^63, where an i64 holds the value exactly.
                if float.fract() == 0.0 && float.abs() < 9.223_372_036_854_775e18 {
                    *value = Value::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// Path parameters (ids); one that does not parse names no resource, so it is a 404.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::integral_floats_as_integers;
    use serde_json::json;

    #[test]
    fn json_content_types_are_json_and_others_are_not() {
        use axum::http::{header, HeaderMap, HeaderValue};
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            super::is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/scim+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/+json"));
        assert!(!super::is_json(&HeaderMap::new()));
    }

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let mut value = json!({"a": 30.0, "b": [-16269808335745.0, 1.5], "c": "7.0", "d": 1e300});
        integral_floats_as_integers(&mut value);
        assert_eq!(value["a"].as_i64(), Some(30));
        assert_eq!(value["b"][0].as_i64(), Some(-16_269_808_335_745));
        assert_eq!(value["b"][1].as_f64(), Some(1.5));
        assert_eq!(value["c"], "7.0");
        assert!(value["d"].is_f64());
    }
}
