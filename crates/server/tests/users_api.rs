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

#[tokio::test]
async fn a_placement_by_hand_outlasts_the_mappings_until_it_is_cleared() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let email = "ada@northwind.example";
    let created = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(json!({"userName": email, "emails": [{"value": email}], "active": true})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let (id, profiles, regions): (i64, String, String) = sqlx::query_as(
        "SELECT u.id, (SELECT group_concat(id) FROM profiles WHERE customer_id = u.customer_id), \
         (SELECT group_concat(id) FROM storage_regions WHERE customer_id = u.customer_id) \
         FROM users u WHERE u.email = ?",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .expect("ids");
    let ids = |text: &str| -> Vec<i64> { text.split(',').filter_map(|i| i.parse().ok()).collect() };
    let (profiles, regions) = (ids(&profiles), ids(&regions));
    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let uri = format!("/api/v1/users/{id}/placement");

    let foreign = app
        .send(
            Method::PUT,
            &uri,
            Some(&admin),
            Some(json!({"profile_id": 1_000_000,
            "storage_region_id": regions[0], "quota_gb": 5})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    let zero = app
        .send(
            Method::PUT,
            &uri,
            Some(&admin),
            Some(json!({"profile_id": profiles[1],
            "storage_region_id": regions[1], "quota_gb": 0})),
        )
        .await;
    assert_eq!(zero.status, StatusCode::BAD_REQUEST);
    let placed = app
        .send(
            Method::PUT,
            &uri,
            Some(&admin),
            Some(json!({"profile_id": profiles[1],
            "storage_region_id": regions[1], "quota_gb": 7})),
        )
        .await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.text);
    assert_eq!(placed.body["placement_manual"], true);
    assert_eq!(placed.body["quota_gb"], 7);

    // An all-users mapping and its re-evaluation pass the user by, and say so.
    let mapping = app
        .send(
            Method::POST,
            &format!("/api/v1/customers/{northwind}/mappings"),
            Some(&admin),
            Some(json!({"name": "Everyone", "enabled": true, "quota_gb": null,
                "matcher": {"kind": "all"}, "profile_id": profiles[0], "storage_region_id": regions[0]})),
        )
        .await;
    assert_eq!(mapping.status, StatusCode::CREATED, "{}", mapping.text);
    app.settled(&mapping).await;
    let (_, user) = app.get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(user["quota_gb"], 7, "kept by hand");
    let (_, explained) = app
        .get(&format!(
            "/api/v1/customers/{northwind}/mappings/explain?email=ada%40northwind.example"
        ))
        .await;
    assert!(explained["placement"]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("placed by hand")));

    // Cleared, the mappings place them at once.
    let cleared = app.send(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.body["placement_manual"], false);
    assert_eq!(cleared.body["mapping"], "Everyone");
    assert_eq!(cleared.body["quota_gb"], serde_json::Value::Null);
}

#[tokio::test]
async fn only_a_preserved_user_is_deleted_for_good_and_the_audit_keeps_who() {
    let app = TestApp::with_demo_users(60).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let id: i64 = sqlx::query_scalar(
        "SELECT id FROM users WHERE customer_id = ? AND status = 'Active' ORDER BY id LIMIT 1",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("an active user");
    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let uri = format!("/api/v1/users/{id}");
    let refused = app.send(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(app.get(&uri).await.0, StatusCode::OK, "nothing removed");

    let preserved = app
        .send(Method::POST, &format!("{uri}/preserve"), Some(&admin), None)
        .await;
    assert_eq!(preserved.status, StatusCode::OK);
    let email = preserved.body["email"].as_str().expect("email").to_owned();
    let deleted = app.send(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(app.get(&uri).await.0, StatusCode::NOT_FOUND);
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users WHERE email = ?1), \
                (SELECT COUNT(*) FROM provisioning_events WHERE user_id = ?2)",
    )
    .bind(&email)
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("counts");
    assert_eq!(left, (0, 0), "the row and the history are gone");
    let audit: (String, String) =
        sqlx::query_as("SELECT actor_email, detail FROM audit_log WHERE action = 'user.delete'")
            .fetch_one(&app.pool)
            .await
            .expect("audited");
    assert_eq!(audit.0, app.admin(Role::CustomerAdmin).email);
    assert!(
        !audit.1.contains(&email),
        "the audit keeps no personal data: {}",
        audit.1
    );
}

/// `POST /api/v1/users/bulk` as the admin with this session.
async fn bulk(app: &TestApp, cookie: &str, body: serde_json::Value) -> common::Answer {
    app.send(Method::POST, "/api/v1/users/bulk", Some(cookie), Some(body))
        .await
}

/// Statuses of the users with these ids, in id order.
async fn statuses(app: &TestApp, ids: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let status: String = sqlx::query_scalar("SELECT status FROM users WHERE id = ?")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("status");
        out.push(status);
    }
    out
}

#[tokio::test]
async fn a_bulk_dry_run_counts_exactly_what_the_action_then_does() {
    let app = TestApp::with_demo_users(200).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM users WHERE customer_id = ? AND status = 'Active' ORDER BY id LIMIT 3",
    )
    .bind(northwind)
    .fetch_all(&app.pool)
    .await
    .expect("ids");
    assert_eq!(ids.len(), 3, "the demo has active Northwind users");
    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let single = app
        .send(
            Method::POST,
            &format!("/api/v1/users/{}/preserve", ids[0]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(single.status, StatusCode::OK, "{}", single.text);

    let request = |dry_run: bool| {
        json!({"action": {"kind": "preserve"}, "users": {"by": "ids", "ids": ids},
               "dry_run": dry_run})
    };
    let dry = bulk(&app, &admin, request(true)).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(
        dry.body,
        json!({"dry_run": true, "selected": 3, "changed": 2, "unchanged": 1})
    );
    assert_eq!(
        statuses(&app, &ids).await,
        ["Preserved", "Active", "Active"],
        "a dry run changes nothing"
    );
    let done = bulk(&app, &admin, request(false)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["changed"], dry.body["changed"]);
    assert_eq!(done.body["unchanged"], dry.body["unchanged"]);
    assert_eq!(statuses(&app, &ids).await, ["Preserved"; 3]);
    let history = app
        .send(
            Method::GET,
            &format!("/api/v1/users/{}/timeline", ids[2]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(history.body[0]["action"], "preserve");
    assert_eq!(
        history.body[0]["actor"],
        app.admin(Role::CustomerAdmin).email
    );
    let audited: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'user.bulk'")
            .fetch_one(&app.pool)
            .await
            .expect("one audit entry for the bulk action");
    assert_eq!(audited, "Preserve: 2 of 3 selected users changed");

    // By the report's query: every preserved user the customer admin sees, and no one else.
    let preserved_elsewhere: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE customer_id <> ? AND status = 'Preserved'",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    let preserved_here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE customer_id = ? AND status = 'Preserved'",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    let restore = |dry_run: bool| {
        json!({"action": {"kind": "restore"},
               "users": {"by": "query", "query": "filter=user_status.any_of:Preserved"},
               "dry_run": dry_run})
    };
    let dry = bulk(&app, &admin, restore(true)).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.body["selected"], preserved_here);
    assert_eq!(dry.body["changed"], preserved_here);
    let done = bulk(&app, &admin, restore(false)).await;
    assert_eq!(done.body["changed"], dry.body["changed"]);
    let after: (i64, i64) = sqlx::query_as(
        "SELECT SUM(customer_id = ?1 AND status = 'Preserved'), \
                SUM(customer_id <> ?1 AND status = 'Preserved') FROM users",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("counts");
    assert_eq!(after, (0, preserved_elsewhere), "other customers untouched");
}

#[tokio::test]
async fn bulk_actions_keep_to_the_callers_customer_and_role() {
    let app = TestApp::with_demo_users(200).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (mine, theirs): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT id FROM users WHERE customer_id = ?1 AND status = 'Active' ORDER BY id LIMIT 1), \
                (SELECT id FROM users WHERE customer_id <> ?1 AND status = 'Active' ORDER BY id LIMIT 1)",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("ids");
    let preserve =
        |ids: Vec<i64>| json!({"action": {"kind": "preserve"}, "users": {"by": "ids", "ids": ids}});
    let reader = app.sign_in_as(Role::ReadOnly).await;
    let refused = bulk(&app, &reader, preserve(vec![mine])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let foreign = bulk(&app, &admin, preserve(vec![mine, theirs])).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    assert_eq!(
        statuses(&app, &[mine, theirs]).await,
        ["Active", "Active"],
        "nothing changes when one user is not found"
    );
    let nobody = bulk(&app, &admin, preserve(vec![])).await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST, "{}", nobody.text);
    assert_eq!(nobody.body["error"]["parameter"], "ids");
    let bad_query = bulk(
        &app,
        &admin,
        json!({"action": {"kind": "restore"},
                        "users": {"by": "query", "query": "filter=nonsense"}}),
    )
    .await;
    assert_eq!(
        bad_query.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_query.text
    );

    // Placing by hand: only on the users' own customer's profile, once.
    let (profile, region): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT MAX(id) FROM profiles WHERE customer_id = ?1), \
                (SELECT MAX(id) FROM storage_regions WHERE customer_id = ?1)",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("placement");
    let other_profile: i64 =
        sqlx::query_scalar("SELECT MAX(id) FROM profiles WHERE customer_id <> ?")
            .bind(northwind)
            .fetch_one(&app.pool)
            .await
            .expect("profile");
    let place = |profile: i64| {
        json!({"action": {"kind": "place_by_hand", "profile_id": profile,
                          "storage_region_id": region, "quota_gb": 50},
               "users": {"by": "ids", "ids": [mine]}})
    };
    let elsewhere = bulk(&app, &admin, place(other_profile)).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{}",
        elsewhere.text
    );
    for changed in [1, 0] {
        let placed = bulk(&app, &admin, place(profile)).await;
        assert_eq!(placed.status, StatusCode::OK, "{}", placed.text);
        assert_eq!(placed.body["changed"], changed, "the second is already so");
    }
    let shown = app
        .send(
            Method::GET,
            &format!("/api/v1/users/{mine}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(shown.body["placement_manual"], true);
    assert_eq!(shown.body["quota_gb"], 50);
    let cleared = bulk(
        &app,
        &admin,
        json!({"action": {"kind": "clear_placement"},
                        "users": {"by": "ids", "ids": [mine]}}),
    )
    .await;
    assert_eq!(cleared.body["changed"], 1, "{}", cleared.text);

    // Deleting for good takes the preserved users only.
    let preserved: i64 = sqlx::query_scalar(
        "SELECT id FROM users WHERE customer_id = ? AND id <> ? ORDER BY id LIMIT 1",
    )
    .bind(northwind)
    .bind(mine)
    .fetch_one(&app.pool)
    .await
    .expect("another Northwind user");
    app.send(
        Method::POST,
        &format!("/api/v1/users/{preserved}/preserve"),
        Some(&admin),
        None,
    )
    .await;
    let deleted = bulk(
        &app,
        &admin,
        json!({"action": {"kind": "delete_permanently"},
                        "users": {"by": "ids", "ids": [mine, preserved]}}),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(
        (
            deleted.body["changed"].clone(),
            deleted.body["unchanged"].clone()
        ),
        (json!(1), json!(1))
    );
    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id IN (?, ?)")
        .bind(mine)
        .bind(preserved)
        .fetch_all(&app.pool)
        .await
        .expect("ids");
    assert_eq!(left, [mine], "the active user stays");
}
