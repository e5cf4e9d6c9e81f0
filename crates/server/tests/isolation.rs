//! Every route, called as each role and as no one: the allowed status, and no foreign rows.
//!
//! The routes are walked from the OpenAPI document the router itself produces, so a route added
//! without a case here fails this test.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::TestApp;
use provisio_api::auth::Role;
use serde_json::{json, Value};

/// Who calls: the three demo roles, then no one.
const CALLERS: [Option<Role>; 4] = [
    Some(Role::MspAdmin),
    Some(Role::CustomerAdmin),
    Some(Role::ReadOnly),
    None,
];

struct Case {
    method: Method,
    /// The path as the OpenAPI document names it.
    path: &'static str,
    /// The concrete URI to call.
    uri: String,
    body: Option<Value>,
    /// Expected status for MSP admin, customer admin, read-only, anonymous.
    expect: [u16; 4],
}

fn case(
    method: Method,
    path: &'static str,
    uri: &str,
    body: Option<Value>,
    expect: [u16; 4],
) -> Case {
    Case {
        method,
        path,
        uri: uri.to_owned(),
        body,
        expect,
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_allowed_and_never_leaks_another_customer() {
    let app = TestApp::with_demo_users(400).await;
    let viewer_id: i64 = sqlx::query_scalar("SELECT id FROM admins WHERE role = 'read_only'")
        .fetch_one(&app.pool)
        .await
        .expect("the demo viewer");
    let new_admin = |n: usize| {
        json!({"email": format!("new{n}@provisio.example"), "display_name": "New Admin",
               "role": "read_only", "customer_id": null, "password": "a long enough password"})
    };
    let msp_cookie = app.sign_in_as(Role::MspAdmin).await;
    let shared_view = |name: &str| json!({"name": name, "query": "sort=-user_email", "columns": ["user_email"], "shared": true});
    let mut view_ids = Vec::new();
    for name in ["Edited", "Deleted"] {
        let created = app
            .send(
                Method::POST,
                "/api/v1/reports/user-provisioning/views",
                Some(&msp_cookie),
                Some(shared_view(name)),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        view_ids.push(created.body["id"].as_i64().expect("view id"));
    }
    let views = "/api/v1/reports/user-provisioning/views";
    let northwind_id: i64 =
        sqlx::query_scalar("SELECT id FROM customers WHERE name = 'Northwind Traders'")
            .fetch_one(&app.pool)
            .await
            .expect("Northwind");
    let tokens = format!("/api/v1/customers/{northwind_id}/scim-tokens");
    let new_token = json!({"name": "Entra", "identity_provider": "entra_id", "lifetime_days": 90});
    let revocable = app
        .send(
            Method::POST,
            &tokens,
            Some(&msp_cookie),
            Some(new_token.clone()),
        )
        .await;
    assert_eq!(revocable.status, StatusCode::CREATED, "{}", revocable.body);
    let revocable_id = revocable.body["details"]["id"].as_i64().expect("token id");
    let subscription = json!({
        "name": "Morning", "view": {"kind": "snapshot", "query": "sort=-user_email", "columns": []},
        "format": "csv", "schedule": {"recurrence": {"every": "day"}, "hour": 7, "minute": 0},
        "recipients": ["ops@msp.example"], "skip_empty": false, "enabled": true
    });
    let mut subscription_ids = Vec::new();
    for _ in 0..2 {
        let created = app
            .send(
                Method::POST,
                "/api/v1/subscriptions",
                Some(&msp_cookie),
                Some(subscription.clone()),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        subscription_ids.push(created.body["id"].as_i64().expect("subscription id"));
    }
    let msp_id: i64 = sqlx::query_scalar("SELECT id FROM admins WHERE role = 'msp_admin'")
        .fetch_one(&app.pool)
        .await
        .expect("the demo MSP admin");
    let subscribed = format!("/api/v1/subscriptions/{}", subscription_ids[0]);
    let (mappings, mapping_ids, other_mappings) =
        mapping_setup(&app, &msp_cookie, northwind_id).await;
    let (own_user, other_user): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT id FROM users WHERE customer_id = ?1 ORDER BY id LIMIT 1), \
                (SELECT id FROM users WHERE customer_id <> ?1 ORDER BY id LIMIT 1)",
    )
    .bind(northwind_id)
    .fetch_one(&app.pool)
    .await
    .expect("a user of Northwind and one of another customer");
    let other_active: i64 = sqlx::query_scalar(
        "SELECT id FROM users WHERE customer_id <> ? AND status = 'Active' ORDER BY id DESC LIMIT 1",
    )
    .bind(northwind_id)
    .fetch_one(&app.pool)
    .await
    .expect("an active user of another customer");
    // A refused SCIM request for Northwind and for another customer: an event each, no user.
    let other_customer: i64 =
        sqlx::query_scalar("SELECT id FROM customers WHERE id <> ? ORDER BY id LIMIT 1")
            .bind(northwind_id)
            .fetch_one(&app.pool)
            .await
            .expect("another customer");
    for customer in [northwind_id, other_customer] {
        let (token, token_id) = common::scim::token_for(&app, customer, "okta").await;
        let refused = common::scim::scim(
            &app,
            &token,
            Method::POST,
            "/scim/v2/Users",
            Some(json!({"userName": "no-email"})),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let revoked = app
            .send(
                Method::DELETE,
                &format!("/api/v1/customers/{customer}/scim-tokens/{token_id}"),
                Some(&msp_cookie),
                None,
            )
            .await;
        assert!(revoked.status.is_success(), "{}", revoked.text);
    }
    let (other_event,): (i64,) =
        sqlx::query_as("SELECT id FROM provisioning_events WHERE customer_id = ? LIMIT 1")
            .bind(other_customer)
            .fetch_one(&app.pool)
            .await
            .expect("an event of another customer");
    let mut cases = vec![
        case(
            Method::GET,
            "/healthz",
            "/healthz",
            None,
            [200, 200, 200, 200],
        ),
        case(
            Method::GET,
            "/readyz",
            "/readyz",
            None,
            [200, 200, 200, 200],
        ),
        case(
            Method::GET,
            "/api/v1/session",
            "/api/v1/session",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/session",
            "/api/v1/session",
            Some(json!({"email": "nobody@provisio.example", "password": "wrong password here"})),
            [401, 401, 401, 401],
        ),
        case(
            Method::DELETE,
            "/api/v1/session",
            "/api/v1/session",
            None,
            [204, 204, 204, 401],
        ),
        case(
            Method::POST,
            "/api/v1/session/password",
            "/api/v1/session/password",
            Some(
                json!({"current_password": "not the password", "new_password": "another long password"}),
            ),
            [403, 403, 403, 401],
        ),
        case(
            Method::GET,
            "/api/v1/admins",
            "/api/v1/admins",
            None,
            [200, 403, 403, 401],
        ),
        case(
            Method::PATCH,
            "/api/v1/admins/{id}",
            &format!("/api/v1/admins/{viewer_id}"),
            Some(json!({"display_name": "Sam R."})),
            [200, 403, 403, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers",
            "/api/v1/customers",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/audit",
            "/api/v1/audit",
            None,
            [200, 403, 403, 401],
        ),
        case(
            Method::GET,
            "/api/v1/reports/user-provisioning",
            "/api/v1/reports/user-provisioning?limit=1000",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/reports/user-provisioning/facets",
            "/api/v1/reports/user-provisioning/facets",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/admins",
            "/api/v1/admins",
            Some(new_admin(0)),
            [201, 403, 403, 401],
        ),
    ];
    cases.extend([
        case(
            Method::GET,
            "/api/v1/reports/user-provisioning/export",
            "/api/v1/reports/user-provisioning/export?format=json",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/reports/user-provisioning/layout",
            "/api/v1/reports/user-provisioning/layout",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/reports/user-provisioning/layout",
            "/api/v1/reports/user-provisioning/layout",
            Some(json!({"order": provisio_api::report::ReportField::ALL, "hidden": ["profile"]})),
            [200, 200, 200, 401],
        ),
        case(
            Method::DELETE,
            "/api/v1/reports/user-provisioning/layout",
            "/api/v1/reports/user-provisioning/layout",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/reports/user-provisioning/views",
            views,
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/reports/user-provisioning/views",
            views,
            Some(shared_view("Mine")),
            [201, 201, 201, 401],
        ),
        // The MSP admin owns it; the read-only MSP viewer sees it shared but may not change it;
        // the customer admin, of another tenant, does not see it at all.
        case(
            Method::PUT,
            "/api/v1/reports/user-provisioning/views/{id}",
            &format!("{views}/{}", view_ids[0]),
            Some(shared_view("Edited")),
            [200, 404, 403, 401],
        ),
        case(
            Method::DELETE,
            "/api/v1/reports/user-provisioning/views/{id}",
            &format!("{views}/{}", view_ids[1]),
            None,
            [204, 404, 404, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/reports/user-provisioning/default-view",
            "/api/v1/reports/user-provisioning/default-view",
            Some(json!({"view_id": view_ids[0]})),
            [204, 404, 204, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/scim-tokens",
            &tokens,
            None,
            [200, 200, 200, 401],
        ),
        // Revoked by the MSP admin first; afterwards there is nothing left to revoke.
        case(
            Method::DELETE,
            "/api/v1/customers/{customer_id}/scim-tokens/{id}",
            &format!("{tokens}/{revocable_id}"),
            None,
            [204, 404, 403, 401],
        ),
        case(
            Method::POST,
            "/api/v1/customers/{customer_id}/scim-tokens",
            &tokens,
            Some(new_token.clone()),
            [201, 201, 403, 401],
        ),
        // Everyone keeps their own subscriptions; only MSP admins see others'.
        case(
            Method::GET,
            "/api/v1/subscriptions",
            "/api/v1/subscriptions",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/subscriptions",
            "/api/v1/subscriptions",
            Some(subscription.clone()),
            [201, 201, 201, 401],
        ),
        case(
            Method::GET,
            "/api/v1/subscriptions/{id}",
            &subscribed,
            None,
            [200, 404, 404, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/subscriptions/{id}",
            &subscribed,
            Some(subscription.clone()),
            [200, 404, 404, 401],
        ),
        case(
            Method::POST,
            "/api/v1/subscriptions/{id}/send",
            &format!("{subscribed}/send"),
            None,
            [200, 404, 404, 401],
        ),
        case(
            Method::GET,
            "/api/v1/subscriptions/{id}/deliveries",
            &format!("{subscribed}/deliveries"),
            None,
            [200, 404, 404, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/subscriptions/{id}/owner",
            &format!("{subscribed}/owner"),
            Some(json!({"owner_id": msp_id})),
            [200, 403, 403, 401],
        ),
        case(
            Method::DELETE,
            "/api/v1/subscriptions/{id}",
            &format!("/api/v1/subscriptions/{}", subscription_ids[1]),
            None,
            [204, 404, 404, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings",
            &mappings,
            None,
            [200, 200, 200, 401],
        ),
        // Another customer's mappings do not exist for a customer admin.
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings",
            &other_mappings,
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/customers/{customer_id}/mappings/{id}",
            &format!("{mappings}/{}", mapping_ids[0]),
            Some(mapping_body("Kept", mapping_ids[2], mapping_ids[3])),
            [200, 200, 403, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/customers/{customer_id}/mappings/order",
            &format!("{mappings}/order"),
            Some(json!({"ids": [mapping_ids[1], mapping_ids[0]]})),
            [200, 200, 403, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings/explain",
            &format!("{mappings}/explain?email=mapped%40northwind.example"),
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/customers/{customer_id}/mappings/preview",
            &format!("{mappings}/preview"),
            Some(json!({"mappings": [{"id": mapping_ids[0],
                "mapping": mapping_body("Kept", mapping_ids[2], mapping_ids[3])}]})),
            [200, 200, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/customers/{customer_id}/mappings/preview",
            &format!("{other_mappings}/preview"),
            Some(json!({"mappings": []})),
            [200, 404, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings/jobs/{id}",
            &format!("{mappings}/jobs/{}", mapping_ids[4]),
            None,
            [200, 200, 200, 401],
        ),
        // A job is its customer's: under another customer's path it does not exist.
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings/jobs/{id}",
            &format!("{other_mappings}/jobs/{}", mapping_ids[4]),
            None,
            [404, 404, 404, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings/options",
            &format!("{mappings}/options"),
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/mappings/options",
            &format!("{other_mappings}/options"),
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/customers/{customer_id}/mappings/settings",
            &format!("{mappings}/settings"),
            Some(json!({"region_move_threshold": 250})),
            [200, 200, 403, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/customers/{customer_id}/mappings/settings",
            &format!("{other_mappings}/settings"),
            Some(json!({"region_move_threshold": 250})),
            [200, 404, 403, 401],
        ),
        case(
            Method::GET,
            "/api/v1/users/{id}",
            &format!("/api/v1/users/{own_user}"),
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/users/{id}",
            &format!("/api/v1/users/{other_user}"),
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/users/{id}/timeline",
            &format!("/api/v1/users/{other_user}/timeline"),
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::POST,
            "/api/v1/users/{id}/preserve",
            &format!("/api/v1/users/{own_user}/preserve"),
            None,
            [200, 200, 403, 401],
        ),
        case(
            Method::POST,
            "/api/v1/users/{id}/restore",
            &format!("/api/v1/users/{other_user}/restore"),
            None,
            [200, 404, 403, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/users/{id}/placement",
            &format!("/api/v1/users/{other_user}/placement"),
            Some(
                json!({"profile_id": 1_000_000, "storage_region_id": 1_000_000, "quota_gb": null}),
            ),
            [404, 404, 403, 401],
        ),
        case(
            Method::DELETE,
            "/api/v1/users/{id}/placement",
            &format!("/api/v1/users/{own_user}/placement"),
            None,
            [200, 200, 403, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/scim/custom-attribute",
            &format!("/api/v1/customers/{other_customer}/scim/custom-attribute"),
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/customers/{customer_id}/scim/custom-attribute",
            &format!("/api/v1/customers/{northwind_id}/scim/custom-attribute"),
            Some(json!({"attribute": "employeeNumber", "shown": true})),
            [200, 200, 403, 401],
        ),
        case(
            Method::POST,
            "/api/v1/users/bulk",
            "/api/v1/users/bulk",
            Some(json!({"action": {"kind": "preserve"},
                        "users": {"by": "ids", "ids": [other_user]}, "dry_run": true})),
            [200, 404, 403, 401],
        ),
        // Active users are not deleted: preserve them first.
        case(
            Method::DELETE,
            "/api/v1/users/{id}",
            &format!("/api/v1/users/{other_active}"),
            None,
            [409, 404, 403, 401],
        ),
        // Deleted by the MSP admin first; afterwards there is nothing left to delete.
        case(
            Method::DELETE,
            "/api/v1/customers/{customer_id}/mappings/{id}",
            &format!("{mappings}/{}", mapping_ids[1]),
            None,
            [200, 404, 403, 401],
        ),
        case(
            Method::POST,
            "/api/v1/customers/{customer_id}/mappings",
            &mappings,
            None,
            [201, 201, 403, 401],
        ),
    ]);

    cases.extend([
        case(
            Method::GET,
            "/api/v1/provisioning/events",
            "/api/v1/provisioning/events?range=30d",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/provisioning/events/facets",
            "/api/v1/provisioning/events/facets?range=30d",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/provisioning/events/export",
            "/api/v1/provisioning/events/export?range=30d&format=json",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/provisioning/events/{id}",
            &format!("/api/v1/provisioning/events/{other_event}"),
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/provisioning/status",
            "/api/v1/provisioning/status",
            None,
            [200, 200, 200, 401],
        ),
        case(
            Method::GET,
            "/api/v1/customers/{customer_id}/provisioning/notifications",
            &format!("/api/v1/customers/{other_customer}/provisioning/notifications"),
            None,
            [200, 404, 200, 401],
        ),
        case(
            Method::PUT,
            "/api/v1/customers/{customer_id}/provisioning/notifications",
            &format!("/api/v1/customers/{northwind_id}/provisioning/notifications"),
            Some(json!({"recipients": ["it@northwindtraders.com"]})),
            [200, 200, 403, 401],
        ),
    ]);

    let (_, document) = app.get("/api/openapi.json").await;
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let covered: BTreeSet<String> = cases
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(
        covered, documented,
        "every documented route has a case, and every case a route"
    );

    let northwind = "Northwind Traders";
    let mut calls = 0;
    for case in &cases {
        for (caller_index, caller) in CALLERS.iter().enumerate() {
            calls += 1;
            // Each create gets its own email, so a success is never refused as a duplicate.
            let body =
                match (&case.method, case.path) {
                    (&Method::POST, "/api/v1/admins") => Some(new_admin(calls)),
                    (&Method::POST, "/api/v1/customers/{customer_id}/mappings") => Some(
                        mapping_body(&format!("Mapping {calls}"), mapping_ids[2], mapping_ids[3]),
                    ),
                    _ => case.body.clone(),
                };
            let cookie = match caller {
                Some(role) => Some(app.sign_in_as(*role).await),
                None => None,
            };
            let answer = app
                .send(case.method.clone(), &case.uri, cookie.as_deref(), body)
                .await;
            assert_eq!(
                answer.status.as_u16(),
                case.expect[caller_index],
                "{} {} as {caller:?}: {}",
                case.method,
                case.uri,
                answer.body
            );
            if answer.status == StatusCode::UNAUTHORIZED || answer.status == StatusCode::FORBIDDEN {
                assert!(
                    answer.body["error"]["code"].is_string(),
                    "errors carry the JSON body"
                );
            }
            if *caller == Some(Role::CustomerAdmin)
                && case.method == Method::GET
                && answer.status.is_success()
            {
                assert_only_northwind(case.path, &answer.body, northwind);
            }
        }
    }
}

/// A customer admin's answers hold Northwind Traders' data and nothing of any other customer.
fn assert_only_northwind(path: &str, body: &Value, northwind: &str) {
    match path {
        "/api/v1/reports/user-provisioning" => {
            let rows = body["rows"].as_array().expect("rows");
            assert!(!rows.is_empty());
            assert!(
                rows.iter().all(|r| r["customer_name"] == northwind),
                "only Northwind rows"
            );
            assert_eq!(
                body["total"].as_u64(),
                Some(rows.len() as u64),
                "total counts only Northwind"
            );
        }
        "/api/v1/reports/user-provisioning/export" => {
            let rows = body.as_array().expect("exported rows");
            assert!(!rows.is_empty());
            assert!(
                rows.iter().all(|r| r["customer_name"] == northwind),
                "the export holds only Northwind rows"
            );
        }
        "/api/v1/customers/{customer_id}/scim-tokens" => {
            let listed = body.as_array().expect("tokens");
            assert!(listed.iter().all(|t| t.get("token").is_none()
                && t["prefix"].as_str().is_some_and(|p| p.starts_with("pvs_"))));
        }
        "/api/v1/reports/user-provisioning/views" => {
            let views = body["views"].as_array().expect("views");
            assert!(
                views.iter().all(|v| v["owned"] == true),
                "no view of the MSP's is listed for a customer admin: {views:?}"
            );
        }
        "/api/v1/reports/user-provisioning/facets" => {
            let customers: Vec<&str> = body["customers"]
                .as_array()
                .expect("customers")
                .iter()
                .filter_map(|c| c["value"].as_str())
                .collect();
            assert_eq!(customers, [northwind]);
            assert_eq!(body["service_plans"].as_array().map(Vec::len), Some(1));
        }
        "/api/v1/customers" => {
            let names: Vec<&str> = body
                .as_array()
                .expect("customers")
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect();
            assert_eq!(names, [northwind]);
        }
        "/api/v1/session" => assert_eq!(body["customer"]["name"], northwind),
        "/api/v1/provisioning/events" => {
            let rows = body["rows"].as_array().expect("events");
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|r| r["customer_name"] == northwind));
        }
        "/api/v1/provisioning/events/export" => {
            let rows = body.as_array().expect("exported events");
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|r| r["customer"] == northwind));
        }
        "/api/v1/provisioning/events/facets" => {
            let customers: Vec<&str> = body["customers"]
                .as_array()
                .expect("customers")
                .iter()
                .filter_map(|c| c["label"].as_str())
                .collect();
            assert_eq!(customers, [northwind]);
        }
        "/api/v1/provisioning/status" => {
            let names: Vec<&str> = body
                .as_array()
                .expect("statuses")
                .iter()
                .filter_map(|s| s["customer_name"].as_str())
                .collect();
            assert_eq!(names, [northwind]);
        }
        _ => {}
    }
}

#[tokio::test]
async fn a_customer_admin_cannot_reach_other_customers_through_filters_or_cursors() {
    let app = TestApp::with_demo_users(400).await;
    let cookie = app.sign_in_as(Role::CustomerAdmin).await;
    let uri = "/api/v1/reports/user-provisioning?filter=customer_name.equals%3AWoodgrove+Bank";
    let answer = app.send(Method::GET, uri, Some(&cookie), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["total"], 0);
    assert_eq!(answer.body["rows"].as_array().map(Vec::len), Some(0));

    // A cursor made for the MSP-wide view is refused in the customer's scope.
    let (_, msp_page) = app.get("/api/v1/reports/user-provisioning?limit=5").await;
    let cursor = msp_page["next_cursor"].as_str().expect("cursor");
    let answer = app
        .send(
            Method::GET,
            &format!("/api/v1/reports/user-provisioning?limit=5&cursor={cursor}"),
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"]["parameter"], "cursor");
}

#[tokio::test]
async fn unknown_api_paths_and_the_openapi_document_need_a_session() {
    let app = TestApp::with_demo_users(1).await;
    for uri in ["/api/openapi.json", "/api/v1/reports/user-provisioning"] {
        let answer = app.send(Method::GET, uri, None, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
}

fn mapping_body(name: &str, profile: i64, region: i64) -> Value {
    json!({"name": name, "enabled": true, "quota_gb": null, "matcher": {"kind": "all"},
           "profile_id": profile, "storage_region_id": region})
}

/// Northwind's mappings URI, two mappings of it (then its profile and region ids and a
/// re-evaluation job), a SCIM
/// user to explain, and another customer's mappings URI.
async fn mapping_setup(
    app: &TestApp,
    msp_cookie: &str,
    northwind: i64,
) -> (String, Vec<i64>, String) {
    let mappings = format!("/api/v1/customers/{northwind}/mappings");
    let first = |table: &'static str| {
        let sql = format!("SELECT id FROM {table} WHERE customer_id = ? ORDER BY id LIMIT 1");
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(northwind)
                .fetch_one(&pool)
                .await
                .expect("id")
        }
    };
    let (profile, region) = (first("profiles").await, first("storage_regions").await);
    let (mut ids, mut job) = (Vec::new(), 0);
    for name in ["Updated", "Deleted"] {
        let created = app
            .send(
                Method::POST,
                &mappings,
                Some(msp_cookie),
                Some(mapping_body(name, profile, region)),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        app.settled(&created).await;
        ids = created.body["mappings"]
            .as_array()
            .expect("mappings")
            .iter()
            .filter_map(|m| m["id"].as_i64())
            .collect();
        job = created.body["job"]["id"].as_i64().expect("job");
    }
    ids.extend([profile, region, job]);
    let (token, token_id) = common::scim::token_for(app, northwind, "okta").await;
    let user = json!({"userName": "mapped@northwind.example",
                      "emails": [{"value": "mapped@northwind.example"}]});
    let created = common::scim::scim(app, &token, Method::POST, "/scim/v2/Users", Some(user)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    // Its token is revoked again: the token cases count on the customer's limit.
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/api/v1/customers/{northwind}/scim-tokens/{token_id}"),
            Some(msp_cookie),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let other: i64 =
        sqlx::query_scalar("SELECT id FROM customers WHERE id <> ? ORDER BY id LIMIT 1")
            .bind(northwind)
            .fetch_one(&app.pool)
            .await
            .expect("another customer");
    (mappings, ids, format!("/api/v1/customers/{other}/mappings"))
}
