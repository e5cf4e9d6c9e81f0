//! What admins type into names and recipients: control and invisible characters are refused
//! with a 400 naming the field, and what is stored is trimmed and NFC-normalised.

mod common;

use axum::http::{Method, StatusCode};
use common::scim::customer_id;
use common::TestApp;
use serde_json::{json, Value};

const GARBAGE: &str = "\u{1}\u{2}\u{7}\u{1b}[31m";

async fn refused(app: &TestApp, method: Method, uri: &str, body: Value, parameter: &str) {
    let answer = app
        .send(method, uri, Some(&app.msp_cookie), Some(body))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{uri}: {}",
        answer.text
    );
    assert_eq!(answer.body["error"]["parameter"], parameter, "{uri}");
}

#[tokio::test]
async fn names_titles_and_recipients_refuse_control_characters() {
    let app = TestApp::with_demo_users(10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let me: i64 = sqlx::query_scalar("SELECT id FROM admins WHERE role = 'msp_admin'")
        .fetch_one(&app.pool)
        .await
        .expect("admin");
    refused(
        &app,
        Method::PATCH,
        &format!("/api/v1/admins/{me}"),
        json!({"display_name": GARBAGE}),
        "display_name",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/api/v1/admins",
        json!({"email": "x@msp.example", "display_name": "Eve\u{202E}gnp.exe", "role": "msp_admin",
               "password": "a long enough password"}),
        "display_name",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/api/v1/reports/user-provisioning/views",
        json!({"name": GARBAGE, "query": "", "columns": ["user_email"], "shared": false}),
        "name",
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("/api/v1/customers/{northwind}/scim-tokens"),
        json!({"name": "tab\there", "identity_provider": "okta", "lifetime_days": 30}),
        "name",
    )
    .await;
    let subscription = |name: &str, recipient: &str| {
        json!({"name": name, "view": {"kind": "snapshot", "query": "", "columns": ["user_email"]},
               "format": "csv", "schedule": {"recurrence": {"every": "day"}, "hour": 7, "minute": 0},
               "recipients": [recipient], "skip_empty": false, "enabled": true})
    };
    refused(
        &app,
        Method::POST,
        "/api/v1/subscriptions",
        subscription(GARBAGE, "a@b.example"),
        "name",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/api/v1/subscriptions",
        subscription("Weekly", "a@b.example\u{0}"),
        "recipients",
    )
    .await;
}

#[tokio::test]
async fn stored_names_are_trimmed_and_nfc_normalised() {
    let app = TestApp::with_demo_users(10).await;
    let created = app
        .send(
            Method::POST,
            "/api/v1/reports/user-provisioning/views",
            Some(&app.msp_cookie),
            // "Ame" + combining acute accent: stored as the one precomposed "é".
            Some(json!({"name": "  Ame\u{301}lie ", "query": "", "columns": ["user_email"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["name"], "Am\u{e9}lie");
}
