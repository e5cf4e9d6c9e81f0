//! The user page's API through the real router over a real SQLite file: a user's details and
//! history, preserve and restore by hand, roles, and another customer's users.

mod common;

use axum::http::{Method, StatusCode};
use common::scim::{customer_id, scim, token_for};
use common::TestApp;
use provisio_api::auth::Role;
use serde_json::json;

#[tokio::test]
async fn an_admin_reads_a_users_history_and_preserves_and_restores_them() {
    let app = TestApp::with_demo_users(30).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let email = "hedy@northwind.example";
    let created = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(
            json!({"userName": email, "emails": [{"value": email}], "active": true,
                    "title": "Inventor"}),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let scim_id = created.body["id"].as_str().expect("id").to_owned();
    let group = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Groups",
        Some(json!({"displayName": "Engineering", "members": [{"value": scim_id}]})),
    )
    .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.text);
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE scim_id = ?")
        .bind(&scim_id)
        .fetch_one(&app.pool)
        .await
        .expect("row id");

    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let uri = format!("/api/v1/users/{id}");
    let shown = app.send(Method::GET, &uri, Some(&admin), None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert_eq!(shown.body["email"], email);
    assert_eq!(shown.body["customer"]["name"], "Northwind Traders");
    assert_eq!(shown.body["scim_id"], scim_id.as_str());
    assert_eq!(shown.body["groups"], json!(["Engineering"]));
    assert_eq!(shown.body["directory"]["title"], "Inventor");
    assert_eq!(shown.body["managed_by"], "Okta");

    // Preserving twice writes once; restoring brings them back; the history says who did it.
    for _ in 0..2 {
        let preserved = app
            .send(Method::POST, &format!("{uri}/preserve"), Some(&admin), None)
            .await;
        assert_eq!(preserved.status, StatusCode::OK, "{}", preserved.text);
        assert_eq!(preserved.body["status"], "Preserved");
        assert_eq!(preserved.body["license"], "preserved");
    }
    let over_scim = scim(
        &app,
        &token,
        Method::GET,
        &format!("/scim/v2/Users/{scim_id}"),
        None,
    )
    .await;
    assert_eq!(
        over_scim.body["active"], false,
        "the identity provider sees it too"
    );
    let restored = app
        .send(Method::POST, &format!("{uri}/restore"), Some(&admin), None)
        .await;
    assert_eq!(restored.body["status"], "Active");

    let timeline = app
        .send(Method::GET, &format!("{uri}/timeline"), Some(&admin), None)
        .await;
    assert_eq!(timeline.status, StatusCode::OK);
    let actions: Vec<&str> = timeline
        .body
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["restore", "preserve", "create"],
        "newest first, no repeats"
    );
    let priya = app.admin(Role::CustomerAdmin).email;
    assert_eq!(timeline.body[0]["actor"], priya);
    assert_eq!(timeline.body[1]["changes"]["status"]["after"], "Preserved");
    assert!(timeline.body[2]["actor"]
        .as_str()
        .is_some_and(|actor| actor.starts_with("Okta")));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('user.preserve', 'user.restore') \
         AND detail LIKE 'hedy@%'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn read_only_admins_see_and_other_customers_users_do_not_exist() {
    let app = TestApp::with_demo_users(200).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (mine, theirs): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT id FROM users WHERE customer_id = ?1 ORDER BY id LIMIT 1), \
                (SELECT id FROM users WHERE customer_id <> ?1 ORDER BY id LIMIT 1)",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("users");
    let reader = app.sign_in_as(Role::ReadOnly).await;
    let seen = app
        .send(
            Method::GET,
            &format!("/api/v1/users/{theirs}"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    let refused = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{theirs}/preserve"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    for uri in [
        format!("/api/v1/users/{theirs}"),
        format!("/api/v1/users/{theirs}/timeline"),
    ] {
        let answer = app.send(Method::GET, &uri, Some(&admin), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let answer = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{theirs}/preserve"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let ok = app
        .send(
            Method::GET,
            &format!("/api/v1/users/{mine}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let missing = app
        .send(Method::GET, "/api/v1/users/999999999", Some(&admin), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["code"], "not_found");
}
