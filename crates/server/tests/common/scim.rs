//! SCIM clients for tests: a token from the token API, and bearer-authenticated requests.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use super::{Answer, TestApp};

pub async fn customer_id(app: &TestApp, name: &str) -> i64 {
    app.scalar(&format!("SELECT id FROM customers WHERE name = '{name}'"))
        .await
}

pub async fn token_for(app: &TestApp, customer: i64, idp: &str) -> (String, i64) {
    let answer = app
        .send(
            Method::POST,
            &format!("/api/v1/customers/{customer}/scim-tokens"),
            Some(&app.msp_cookie),
            Some(json!({"name": "IdP", "identity_provider": idp, "lifetime_days": 30})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert!(answer.body["tenant_url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/scim/v2")));
    (
        answer.body["token"].as_str().expect("token").to_owned(),
        answer.body["details"]["id"].as_i64().expect("id"),
    )
}

pub async fn scim(
    app: &TestApp,
    token: &str,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> Answer {
    scim_with(app, token, method, uri, body, "application/scim+json").await
}

/// A SCIM request whose body is sent as `content_type` (Okta sends `application/json`).
pub async fn scim_with(
    app: &TestApp,
    token: &str,
    method: Method,
    uri: &str,
    body: Option<Value>,
    content_type: &str,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    app.send_request(request.body(body).expect("request")).await
}
