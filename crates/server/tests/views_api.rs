//! Column layouts and saved views: per admin, validated, shared read-only within a tenant.

mod common;

on_both_backends!(
    each_admin_keeps_their_own_layout_until_they_reset_it,
    a_layout_that_loses_or_hides_every_column_is_refused,
    views_are_named_validated_shared_read_only_and_can_be_the_default,
);

use axum::http::{Method, StatusCode};
use common::{Backend, TestApp};
use provisio_api::auth::Role;
use provisio_api::report::{ColumnLayout, ReportField, SavedViewList};
use serde_json::json;

const LAYOUT: &str = "/api/v1/reports/user-provisioning/layout";
const VIEWS: &str = "/api/v1/reports/user-provisioning/views";

async fn each_admin_keeps_their_own_layout_until_they_reset_it(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let reader = app.sign_in_as(Role::ReadOnly).await;
    let mut layout = ColumnLayout::default();
    layout.move_visible(ReportField::UserEmail, 0);
    assert!(layout.set_hidden(ReportField::Profile, true));
    let saved = app
        .send(
            Method::PUT,
            LAYOUT,
            Some(&app.msp_cookie),
            Some(json!(layout)),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);

    let (_, mine) = app.get(LAYOUT).await;
    assert_eq!(
        serde_json::from_value::<ColumnLayout>(mine).expect("layout"),
        layout
    );
    let theirs = app.send(Method::GET, LAYOUT, Some(&reader), None).await;
    assert_eq!(
        serde_json::from_value::<ColumnLayout>(theirs.body).expect("layout"),
        ColumnLayout::default(),
        "another admin's layout is untouched"
    );

    app.send(Method::DELETE, LAYOUT, Some(&app.msp_cookie), None)
        .await;
    let (_, reset) = app.get(LAYOUT).await;
    assert_eq!(
        serde_json::from_value::<ColumnLayout>(reset).expect("layout"),
        ColumnLayout::default()
    );
}

async fn a_layout_that_loses_or_hides_every_column_is_refused(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let cases = [
        (json!({"order": ["user_email"], "hidden": []}), "order"),
        (
            json!({"order": ReportField::ALL, "hidden": ReportField::ALL}),
            "hidden",
        ),
        (json!({"order": ["nope"], "hidden": []}), "body"),
    ];
    for (body, parameter) in cases {
        let answer = app
            .send(
                Method::PUT,
                LAYOUT,
                Some(&app.msp_cookie),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.body["error"]["parameter"], parameter, "{body}");
    }
}

async fn views_are_named_validated_shared_read_only_and_can_be_the_default(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let reader = app.sign_in_as(Role::ReadOnly).await;
    let customer_admin = app.sign_in_as(Role::CustomerAdmin).await;
    let view = |name: &str, query: &str, shared: bool| json!({"name": name, "query": query, "columns": ["user_email", "customer_name"], "shared": shared});

    let created = app
        .send(
            Method::POST,
            VIEWS,
            Some(&app.msp_cookie),
            Some(view(
                "  Preserved users ",
                "filter=user_status.any_of%3APreserved&sort=-created_on",
                true,
            )),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["name"], "Preserved users", "names are trimmed");
    assert_eq!(
        created.body["columns"],
        json!(["user_email", "customer_name"])
    );
    let id = created.body["id"].as_i64().expect("id");

    let duplicate = app
        .send(
            Method::POST,
            VIEWS,
            Some(&app.msp_cookie),
            Some(view("preserved USERS", "", false)),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    for (body, parameter) in [
        (view("", "", false), "name"),
        (view("Bad", "filter=user_email.lt%3A3", false), "query"),
        (
            json!({"name": "No columns", "query": "", "columns": []}),
            "columns",
        ),
        (
            json!({"name": "Twice", "query": "", "columns": ["user_email", "user_email"]}),
            "columns",
        ),
    ] {
        let answer = app
            .send(
                Method::POST,
                VIEWS,
                Some(&app.msp_cookie),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.body["error"]["parameter"], parameter, "{body}");
    }

    // The MSP's read-only viewer sees the shared view but cannot change it; the customer's
    // admin, another tenant, does not see it.
    let listed = app.send(Method::GET, VIEWS, Some(&reader), None).await;
    let list: SavedViewList = serde_json::from_value(listed.body).expect("list");
    assert_eq!(list.views.len(), 1);
    assert!(!list.views[0].owned);
    let edit = app
        .send(
            Method::PUT,
            &format!("{VIEWS}/{id}"),
            Some(&reader),
            Some(view("Mine now", "", true)),
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    let theirs = app
        .send(Method::GET, VIEWS, Some(&customer_admin), None)
        .await;
    assert_eq!(theirs.body["views"], json!([]));

    // A private view is the owner's alone.
    app.send(
        Method::POST,
        VIEWS,
        Some(&app.msp_cookie),
        Some(view("Private", "", false)),
    )
    .await;
    let listed = app.send(Method::GET, VIEWS, Some(&reader), None).await;
    assert_eq!(listed.body["views"].as_array().map(Vec::len), Some(1));

    // The reader makes the shared view their default; deleting it clears the default.
    let default = app
        .send(
            Method::PUT,
            "/api/v1/reports/user-provisioning/default-view",
            Some(&reader),
            Some(json!({"view_id": id})),
        )
        .await;
    assert_eq!(default.status, StatusCode::NO_CONTENT);
    let listed = app.send(Method::GET, VIEWS, Some(&reader), None).await;
    assert_eq!(listed.body["default_view"], id);
    let deleted = app
        .send(
            Method::DELETE,
            &format!("{VIEWS}/{id}"),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let listed = app.send(Method::GET, VIEWS, Some(&reader), None).await;
    assert_eq!(listed.body["default_view"], json!(null));
    let again = app
        .send(
            Method::DELETE,
            &format!("{VIEWS}/{id}"),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
