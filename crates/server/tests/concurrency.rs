//! Concurrent writes through the real router over a real SQLite file: every write that was
//! acknowledged is kept, and every race is answered with a conflict, never a 500.

mod common;

on_both_backends!(
    concurrent_member_adds_to_one_group_keep_every_member,
    concurrent_patches_of_different_attributes_of_one_user_keep_them_all,
    writes_racing_on_one_version_give_one_success_and_412s,
    two_msp_admins_disabling_each_other_at_once_leave_one,
    two_creates_of_one_view_name_give_one_201_and_one_409,
    two_admins_created_with_one_email_at_once_give_one_201_and_one_409,
    concurrent_token_generation_never_exceeds_two_active_tokens,
);

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::scim::{customer_id, scim, token_for};
use common::Backend;
use common::{Answer, TestApp};
use futures_util::future::join_all;
use provisio_api::auth::Role;
use serde_json::{json, Value};

const CONCURRENT: usize = 30;

async fn scim_user(app: &TestApp, token: &str, n: usize) -> String {
    let created = scim(
        app,
        token,
        Method::POST,
        "/scim/v2/Users",
        Some(json!({"userName": format!("racer{n}@northwind.example"),
                    "emails": [{"value": format!("racer{n}@northwind.example")}]})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().expect("id").to_owned()
}

fn patch(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

async fn concurrent_member_adds_to_one_group_keep_every_member(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let mut users = Vec::new();
    for n in 0..CONCURRENT {
        users.push(scim_user(&app, &token, n).await);
    }
    let group = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Groups",
        Some(json!({"displayName": "Racers"})),
    )
    .await;
    let group_uri = format!("/scim/v2/Groups/{}", group.body["id"].as_str().expect("id"));

    let answers = join_all(users.iter().map(|user| {
        scim(
            &app,
            &token,
            Method::PATCH,
            &group_uri,
            Some(patch(
                json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
            )),
        )
    }))
    .await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let stored = scim(&app, &token, Method::GET, &group_uri, None).await;
    let members = stored.body["members"].as_array().expect("members").len();
    assert_eq!(members, CONCURRENT, "every acknowledged add is kept");
    assert_eq!(
        stored.body["meta"]["version"],
        format!("W/\"{}\"", CONCURRENT + 1)
    );
}

async fn concurrent_patches_of_different_attributes_of_one_user_keep_them_all(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let user_uri = format!("/scim/v2/Users/{}", scim_user(&app, &token, 0).await);
    let changes = [
        ("name.givenName", "Grace"),
        ("name.familyName", "Hopper"),
        ("displayName", "Rear Admiral Hopper"),
        ("externalId", "okta-42"),
    ];
    let answers = join_all(changes.iter().map(|(path, value)| {
        scim(
            &app,
            &token,
            Method::PATCH,
            &user_uri,
            Some(patch(
                json!([{"op": "replace", "path": path, "value": value}]),
            )),
        )
    }))
    .await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let stored = scim(&app, &token, Method::GET, &user_uri, None).await;
    assert_eq!(stored.body["name"]["givenName"], "Grace");
    assert_eq!(stored.body["name"]["familyName"], "Hopper");
    assert_eq!(stored.body["displayName"], "Rear Admiral Hopper");
    assert_eq!(stored.body["externalId"], "okta-42");
}

async fn writes_racing_on_one_version_give_one_success_and_412s(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let user_uri = format!("/scim/v2/Users/{}", scim_user(&app, &token, 0).await);
    let read = scim(&app, &token, Method::GET, &user_uri, None).await;
    let version = read.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();

    let answers: Vec<Answer> = join_all((0..5).map(|n| {
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(&user_uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/scim+json")
            .header(header::IF_MATCH, &version)
            .body(Body::from(
                patch(json!([{"op": "replace", "path": "displayName", "value": format!("Writer {n}")}]))
                    .to_string(),
            ))
            .expect("request");
        app.send_request(request)
    }))
    .await;
    let succeeded: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .collect();
    assert_eq!(succeeded.len(), 1, "only the first write on a version wins");
    assert!(answers
        .iter()
        .filter(|a| a.status != StatusCode::OK)
        .all(|a| a.status == StatusCode::PRECONDITION_FAILED));
    let stored = scim(&app, &token, Method::GET, &user_uri, None).await;
    assert_eq!(stored.body["displayName"], succeeded[0].body["displayName"]);
}

async fn two_msp_admins_disabling_each_other_at_once_leave_one(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let first_id = app
        .scalar(&format!(
            "SELECT id FROM admins WHERE email = '{}'",
            app.admin(Role::MspAdmin).email
        ))
        .await;
    let second = app
        .send(
            Method::POST,
            "/api/v1/admins",
            Some(&app.msp_cookie),
            Some(
                json!({"email": "second@msp.example", "display_name": "Second", "role": "msp_admin",
                        "password": "a long enough password"}),
            ),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    let second_id = second.body["id"].as_i64().expect("id");
    let second_cookie = app
        .sign_in("second@msp.example", "a long enough password")
        .await
        .expect("signs in");

    let disable = |cookie: String, target: i64| {
        let app = &app;
        async move {
            app.send(
                Method::PATCH,
                &format!("/api/v1/admins/{target}"),
                Some(&cookie),
                Some(json!({"disabled": true})),
            )
            .await
        }
    };
    let answers = join_all([
        disable(app.msp_cookie.clone(), second_id),
        disable(second_cookie, first_id),
    ])
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [
            StatusCode::OK,
            StatusCode::CONFLICT,
            StatusCode::UNAUTHORIZED
        ]
        .contains(s)),
        "{statuses:?}"
    );
    let active = app
        .scalar("SELECT COUNT(*) FROM admins WHERE role = 'msp_admin' AND NOT disabled")
        .await;
    assert_eq!(active, 1);
}

async fn two_creates_of_one_view_name_give_one_201_and_one_409(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let view = json!({"name": "Race", "query": "", "columns": ["user_email"], "shared": false});
    let answers = join_all((0..2).map(|_| {
        app.send(
            Method::POST,
            "/api/v1/reports/user-provisioning/views",
            Some(&app.msp_cookie),
            Some(view.clone()),
        )
    }))
    .await;
    let mut statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    let conflict = answers
        .iter()
        .find(|a| a.status == StatusCode::CONFLICT)
        .expect("a conflict");
    assert_eq!(conflict.body["error"]["parameter"], "name");
    assert_eq!(conflict.headers[header::CONTENT_TYPE], "application/json");
}

async fn two_admins_created_with_one_email_at_once_give_one_201_and_one_409(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let admin = json!({"email": "twin@msp.example", "display_name": "Twin", "role": "msp_admin",
                       "password": "a long enough password"});
    let answers = join_all((0..2).map(|_| {
        app.send(
            Method::POST,
            "/api/v1/admins",
            Some(&app.msp_cookie),
            Some(admin.clone()),
        )
    }))
    .await;
    let mut statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
}

async fn concurrent_token_generation_never_exceeds_two_active_tokens(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let uri = format!("/api/v1/customers/{northwind}/scim-tokens");
    let answers = join_all((0..4).map(|n| {
        app.send(
            Method::POST,
            &uri,
            Some(&app.msp_cookie),
            Some(json!({"name": format!("Token {n}"), "identity_provider": "okta", "lifetime_days": 30})),
        )
    }))
    .await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 2);
    assert!(answers
        .iter()
        .all(|a| [StatusCode::CREATED, StatusCode::CONFLICT].contains(&a.status)));
}
