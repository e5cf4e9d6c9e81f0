//! The API's contract at its edges: every rejection is the JSON error body, and what the
//! OpenAPI document admits (an integer written as `30.0`) is accepted.

mod common;

use axum::http::{header, Method, StatusCode};
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn a_path_id_that_is_not_a_number_is_a_json_404() {
    let app = TestApp::with_demo_users(10).await;
    for uri in [
        "/api/v1/subscriptions/abc",
        "/api/v1/subscriptions/9223372036854775808",
        "/api/v1/subscriptions/1.5/deliveries",
        "/api/v1/customers/x/scim-tokens",
    ] {
        let answer = app
            .send(Method::GET, uri, Some(&app.msp_cookie), None)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            answer.headers[header::CONTENT_TYPE],
            "application/json",
            "{uri}"
        );
        assert_eq!(answer.body["error"]["code"], "not_found", "{uri}");
    }
}

#[tokio::test]
async fn integers_written_with_a_fraction_of_zero_are_integers() {
    let app = TestApp::with_demo_users(10).await;
    let view = app
        .send(
            Method::POST,
            "/api/v1/reports/user-provisioning/views",
            Some(&app.msp_cookie),
            Some(json!({"name": "Mine", "query": "", "columns": ["user_email"]})),
        )
        .await;
    let id = view.body["id"].as_i64().expect("id");
    let answer = app
        .send(
            Method::PUT,
            "/api/v1/reports/user-provisioning/default-view",
            Some(&app.msp_cookie),
            Some(json!({"view_id": id as f64})),
        )
        .await;
    assert!(answer.status.is_success(), "{}", answer.text);
    let half = app
        .send(
            Method::PUT,
            "/api/v1/reports/user-provisioning/default-view",
            Some(&app.msp_cookie),
            Some(json!({"view_id": 1.5})),
        )
        .await;
    assert_eq!(half.status, StatusCode::BAD_REQUEST);
    assert_eq!(half.body["error"]["parameter"], "body");
    assert!(half.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("view_id")));
}

#[tokio::test]
async fn fields_a_request_does_not_have_are_skipped_whatever_they_hold() {
    let app = TestApp::with_demo_users(10).await;
    let huge = "9".repeat(400);
    let request = axum::http::Request::builder()
        .method(Method::PUT)
        .uri("/api/v1/reports/user-provisioning/default-view")
        .header(header::COOKIE, &app.msp_cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(format!(
            r#"{{"view_id": null, "extra": {huge}}}"#
        )))
        .expect("request");
    let answer = app.send_request(request).await;
    assert!(answer.status.is_success(), "{}", answer.text);
}
