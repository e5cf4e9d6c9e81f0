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

#[tokio::test]
async fn a_method_a_route_lacks_and_a_body_over_the_limit_get_the_json_error_body() {
    let app = TestApp::with_demo_users(10).await;
    let wrong_method = app
        .send(
            Method::DELETE,
            "/api/v1/admins",
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.headers[header::CONTENT_TYPE],
        "application/json"
    );
    assert_eq!(wrong_method.body["error"]["code"], "method_not_allowed");
    assert!(wrong_method.headers.contains_key(header::ALLOW));

    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/v1/reports/user-provisioning/views")
        .header(header::COOKIE, &app.msp_cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, 2 * 1024 * 1024)
        .body(axum::body::Body::from(vec![b' '; 2 * 1024 * 1024]))
        .expect("request");
    let too_large = app.send_request(request).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(too_large.body["error"]["code"], "too_large");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::with_demo_users(10).await;
    let answer = app
        .send(
            Method::PUT,
            "/api/v1/reports/user-provisioning/default-view",
            Some(&app.msp_cookie),
            Some(json!([null])),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.body["error"]["parameter"], "body");
}
