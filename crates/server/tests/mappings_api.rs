//! Provisioning mappings through the real router over a real SQLite file: the editor's API,
//! placement of what SCIM pushes, "test a user", roles and isolation.

mod common;

on_both_backends!(a_preview_names_exactly_the_users_saving_then_moves);

use axum::http::{Method, StatusCode};
use common::scim::{customer_id, scim, token_for};
use common::{Answer, Backend, TestApp};
use provisio_api::auth::Role;
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The customer's first two profiles and regions, by row id.
async fn profiles_and_regions(app: &TestApp, customer: i64) -> (Vec<i64>, Vec<i64>) {
    let ids = |table: &'static str| async move {
        app.integers(&format!(
            "SELECT id FROM {table} WHERE customer_id = {customer} ORDER BY id LIMIT 2"
        ))
        .await
    };
    (ids("profiles").await, ids("storage_regions").await)
}

async fn placement(app: &TestApp, email: &str) -> (i64, Option<i64>, Option<i64>, String) {
    sqlx::query_as(
        "SELECT profile_id, storage_region_id, mapping_id, status FROM users WHERE email = ?",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .expect("user")
}

async fn create_user(app: &TestApp, token: &str, email: &str, extra: Value) -> String {
    let mut user = json!({"userName": email, "emails": [{"value": email}]});
    if let (Some(user), Some(extra)) = (user.as_object_mut(), extra.as_object()) {
        user.extend(extra.clone());
    }
    let created = scim(app, token, Method::POST, "/scim/v2/Users", Some(user)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().expect("id").to_owned()
}

async fn post_mapping(app: &TestApp, cookie: &str, customer: i64, body: Value) -> Answer {
    app.send(
        Method::POST,
        &format!("/api/v1/customers/{customer}/mappings"),
        Some(cookie),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn what_scim_pushes_lands_where_the_mappings_say() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let (profiles, regions) = profiles_and_regions(&app, northwind).await;
    assert!(
        profiles.len() == 2 && regions.len() == 2,
        "demo data has two of each"
    );

    let group = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Groups",
        Some(json!({"displayName": "Finance"})),
    )
    .await;
    let group_id = group.body["id"].as_str().expect("group").to_owned();
    let finance = json!({"name": "Finance first", "enabled": true, "quota_gb": 50,
        "matcher": {"kind": "groups", "groups": [group_id]},
        "profile_id": profiles[1], "storage_region_id": regions[1]});
    let london = json!({"name": "London office", "enabled": true, "quota_gb": null,
        "matcher": {"kind": "attribute", "attribute": "locality", "operator": "any_of", "values": ["london"]},
        "profile_id": profiles[0], "storage_region_id": regions[0]});
    let created = post_mapping(&app, &app.msp_cookie, northwind, finance).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    app.settled(&created).await;
    let listed = app
        .settled(&post_mapping(&app, &app.msp_cookie, northwind, london).await)
        .await;
    assert_eq!(listed[0]["matches_text"], "Members of Finance");
    assert_eq!(listed[1]["matches_text"], "locality is any of london");
    assert_eq!(listed[1]["priority"], 2);

    // An attribute match places on create; no match leaves the user pending.
    let ada = create_user(
        &app,
        &token,
        "ada@northwind.example",
        json!({"addresses": [{"type": "work", "locality": "London"}]}),
    )
    .await;
    let (profile, region, mapping, status) = placement(&app, "ada@northwind.example").await;
    assert_eq!(
        (profile, region, status.as_str()),
        (profiles[0], Some(regions[0]), "Active")
    );
    assert_eq!(mapping, listed[1]["id"].as_i64());
    create_user(&app, &token, "bob@northwind.example", json!({})).await;
    assert_eq!(placement(&app, "bob@northwind.example").await.3, "Pending");

    // Joining the group moves Ada in the PATCH's own transaction: the higher mapping wins.
    let added = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Groups/{group_id}"),
        Some(json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": ada}]}]})),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let (profile, region, _, _) = placement(&app, "ada@northwind.example").await;
    assert_eq!((profile, region), (profiles[1], Some(regions[1])));
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM provisioning_events WHERE action = 'place' AND target_id = ?",
    )
    .bind(&ada)
    .fetch_one(&app.pool)
    .await
    .expect("events");
    assert_eq!(events, 2, "each placement is in the provisioning log");

    // A guest in the group is not placed by it.
    let guest = create_user(
        &app,
        &token,
        "gus@northwind.example",
        json!({"userType": "Guest", ENTERPRISE: {"department": "Finance"}}),
    )
    .await;
    scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Groups/{group_id}"),
        Some(
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": guest}]}]}),
        ),
    )
    .await;
    assert_eq!(placement(&app, "gus@northwind.example").await.3, "Pending");

    // "Test a user" says why, mapping by mapping.
    let explained = app
        .send(
            Method::GET,
            &format!(
                "/api/v1/customers/{northwind}/mappings/explain?email=ada%40northwind.example"
            ),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(explained.status, StatusCode::OK, "{}", explained.text);
    assert_eq!(explained.body["verdicts"][0]["matched"], true);
    assert_eq!(explained.body["verdicts"][1]["matched"], true);
    assert_eq!(explained.body["placement"]["mapping_name"], "Finance first");

    // Reordering re-places everyone at once; an order that is not the current set is refused.
    let ids: Vec<i64> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["id"].as_i64())
        .collect();
    let uri = format!("/api/v1/customers/{northwind}/mappings/order");
    let stale = app
        .send(
            Method::PUT,
            &uri,
            Some(&app.msp_cookie),
            Some(json!({"ids": [ids[0]]})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let reordered = app
        .send(
            Method::PUT,
            &uri,
            Some(&app.msp_cookie),
            Some(json!({"ids": [ids[1], ids[0]]})),
        )
        .await;
    assert_eq!(reordered.status, StatusCode::OK, "{}", reordered.text);
    app.settled(&reordered).await;
    assert_eq!(
        placement(&app, "ada@northwind.example").await.0,
        profiles[0]
    );

    // Deleting every mapping leaves users where they are, no longer pending by mappings.
    for id in ids {
        let deleted = app
            .send(
                Method::DELETE,
                &format!("/api/v1/customers/{northwind}/mappings/{id}"),
                Some(&app.msp_cookie),
                None,
            )
            .await;
        assert_eq!(deleted.status, StatusCode::OK);
        app.settled(&deleted).await;
    }
    assert_eq!(placement(&app, "ada@northwind.example").await.2, None);
}

#[tokio::test]
async fn roles_isolation_and_bad_input() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let other: i64 =
        sqlx::query_scalar("SELECT id FROM customers WHERE name <> 'Northwind Traders' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .expect("customer");
    let (profiles, regions) = profiles_and_regions(&app, northwind).await;
    let (other_profiles, _) = profiles_and_regions(&app, other).await;
    let all = |profile: i64| {
        json!({"name": "Everyone", "enabled": true, "quota_gb": 10,
        "matcher": {"kind": "all"}, "profile_id": profile, "storage_region_id": regions[0]})
    };

    let reader = app.sign_in_as(Role::ReadOnly).await;
    assert_eq!(
        post_mapping(&app, &reader, northwind, all(profiles[0]))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let customer_admin = app.sign_in_as(Role::CustomerAdmin).await;
    let own: i64 =
        sqlx::query_scalar("SELECT customer_id FROM admins WHERE role = 'customer_admin'")
            .fetch_one(&app.pool)
            .await
            .expect("customer");
    let foreign = if own == northwind { other } else { northwind };
    let hidden = app
        .send(
            Method::GET,
            &format!("/api/v1/customers/{foreign}/mappings"),
            Some(&customer_admin),
            None,
        )
        .await;
    assert_eq!(
        hidden.status,
        StatusCode::NOT_FOUND,
        "another customer's mappings do not exist"
    );

    let cross = post_mapping(&app, &app.msp_cookie, northwind, all(other_profiles[0])).await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(cross.body["error"]["parameter"], "profile_id");
    let mut unknown_group = all(profiles[0]);
    unknown_group["matcher"] = json!({"kind": "groups", "groups": ["no-such-group"]});
    let refused = post_mapping(&app, &app.msp_cookie, northwind, unknown_group).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_eq!(refused.body["error"]["parameter"], "matcher");
    for (body, parameter) in [
        (
            json!({"name": "\u{7}", "enabled": true, "quota_gb": null, "matcher": {"kind": "all"},
                "profile_id": profiles[0], "storage_region_id": regions[0]}),
            "name",
        ),
        (
            json!({"name": "x", "enabled": true, "quota_gb": 0, "matcher": {"kind": "all"},
                "profile_id": profiles[0], "storage_region_id": regions[0]}),
            "quota_gb",
        ),
        (
            json!({"name": "x", "enabled": true, "quota_gb": null,
                "matcher": {"kind": "attribute", "attribute": "shoeSize", "operator": "any_of", "values": ["9"]},
                "profile_id": profiles[0], "storage_region_id": regions[0]}),
            "matcher",
        ),
    ] {
        let refused = post_mapping(&app, &app.msp_cookie, northwind, body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert_eq!(refused.body["error"]["parameter"], parameter);
    }
    let first = post_mapping(&app, &app.msp_cookie, northwind, all(profiles[0])).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let twice = post_mapping(&app, &app.msp_cookie, northwind, all(profiles[0])).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "one name per customer");
}

async fn a_preview_names_exactly_the_users_saving_then_moves(backend: Backend) {
    let app = TestApp::on(backend, 20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let (profiles, regions) = profiles_and_regions(&app, northwind).await;
    for (n, city) in ["London", "Paris", "London", "Oslo"].iter().enumerate() {
        create_user(
            &app,
            &token,
            &format!("u{n}@northwind.example"),
            json!({"addresses": [{"type": "work", "locality": city}]}),
        )
        .await;
    }
    let london = json!({"name": "London", "enabled": true, "quota_gb": 5,
        "matcher": {"kind": "attribute", "attribute": "locality", "operator": "any_of", "values": ["London"]},
        "profile_id": profiles[1], "storage_region_id": regions[1]});
    let uri = format!("/api/v1/customers/{northwind}/mappings");
    let preview = app
        .send(
            Method::POST,
            &format!("{uri}/preview"),
            Some(&app.msp_cookie),
            Some(json!({"mappings": [{"id": null, "mapping": london}]})),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(preview.body["users"], 4);
    assert_eq!(preview.body["placed"], json!([2]));
    assert_eq!(preview.body["pending"], 2);
    let mut previewed: Vec<String> = preview.body["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["email"].as_str().map(str::to_owned))
        .collect();
    previewed.sort();

    let saved = post_mapping(&app, &app.msp_cookie, northwind, london).await;
    assert_eq!(saved.status, StatusCode::CREATED);
    let saved = app.settled(&saved).await;
    let mut moved = app
        .texts(
            "SELECT u.email FROM provisioning_events e JOIN users u ON u.scim_id = e.target_id \
             WHERE e.action = 'place' ORDER BY u.email",
        )
        .await;
    moved.sort();
    assert_eq!(
        previewed, moved,
        "the preview is what saving did, user by user"
    );
    assert_eq!(preview.body["changed"], moved.len());

    // A mapping below another matches users the higher one takes: matched counts them, placed
    // does not.
    let london_id = saved[0]["id"].as_i64().expect("id");
    let everyone = json!({"name": "Everyone", "enabled": true, "quota_gb": null,
        "matcher": {"kind": "all"}, "profile_id": profiles[0], "storage_region_id": regions[0]});
    let stacked = app
        .send(
            Method::POST,
            &format!("{uri}/preview"),
            Some(&app.msp_cookie),
            Some(json!({"mappings": [{"id": london_id, "mapping": saved[0]
                .as_object().map(|m| json!({"name": m["name"], "enabled": true, "quota_gb": 5,
                    "matcher": m["matcher"], "profile_id": m["profile_id"],
                    "storage_region_id": m["storage_region_id"]}))},
                {"id": null, "mapping": everyone}]})),
        )
        .await;
    assert_eq!(stacked.status, StatusCode::OK, "{}", stacked.text);
    assert_eq!(stacked.body["matched"], json!([2, 4]));
    assert_eq!(stacked.body["placed"], json!([2, 2]));
}

#[tokio::test]
async fn demo_customers_on_scim_are_placed_by_their_demo_mappings() {
    let app = TestApp::with_demo_users(600).await;
    provisio_server::demo::seed_provisioning(&app.pool)
        .await
        .expect("demo provisioning seeds");
    let customers: Vec<(i64, String)> = sqlx::query_as(
        "SELECT DISTINCT customer_id, managed_by FROM users WHERE scim_id IS NOT NULL",
    )
    .fetch_all(&app.pool)
    .await
    .expect("customers");
    assert!(!customers.is_empty(), "some demo customers use SCIM");
    for (customer, managed_by) in customers {
        assert!(["Microsoft Entra ID", "Okta"].contains(&managed_by.as_str()));
        let (status, mappings) = app
            .get(&format!("/api/v1/customers/{customer}/mappings"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let list = mappings.as_array().expect("mappings");
        assert!(
            (2..=4).contains(&list.len()),
            "two to four mappings: {mappings}"
        );
        let placed: u64 = list.iter().filter_map(|m| m["users"].as_u64()).sum();
        let scim_users: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE customer_id = ? AND scim_id IS NOT NULL",
        )
        .bind(customer)
        .fetch_one(&app.pool)
        .await
        .expect("count");
        assert_eq!(
            placed, scim_users as u64,
            "the last mapping takes everyone left"
        );

        // Each user's stored placement is what "Test a user" explains.
        let users: Vec<(String, i64)> = sqlx::query_as(
            "SELECT email, mapping_id FROM users WHERE customer_id = ? AND scim_id IS NOT NULL LIMIT 5",
        )
        .bind(customer)
        .fetch_all(&app.pool)
        .await
        .expect("users");
        for (email, mapping_id) in users {
            let (status, explained) = app
                .get(&format!(
                    "/api/v1/customers/{customer}/mappings/explain?email={email}"
                ))
                .await;
            assert_eq!(status, StatusCode::OK, "{explained}");
            assert_eq!(explained["placement"]["mapping_id"], json!(mapping_id));
        }
        let (status, options) = app
            .get(&format!("/api/v1/customers/{customer}/mappings/options"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let groups = options["groups"].as_array().expect("groups");
        assert_eq!(groups.len(), 3, "{options}");
        let members: u64 = groups.iter().filter_map(|g| g["members"].as_u64()).sum();
        assert!(
            members > 0 || scim_users < 10,
            "{scim_users} users, {options}"
        );
        assert_eq!(options["region_move_threshold"], 100);
    }

    // The report's placement columns filter, sort and page like the others.
    let report = "/api/v1/reports/user-provisioning";
    let (_, everyone) = app
        .get(&format!(
            "{report}?filter=mapping.equals%3AEveryone+else&limit=5"
        ))
        .await;
    let placed_by_everyone: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users u JOIN mappings m ON m.id = u.mapping_id \
         WHERE m.name = 'Everyone else'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(everyone["total"], placed_by_everyone, "{everyone}");
    let row = &everyone["rows"][0];
    assert_eq!(row["mapping"], "Everyone else");
    assert_eq!(row["quota_gb"], Value::Null, "unlimited");
    assert!(row["storage_region"].is_string());
    let mut seen = Vec::new();
    let mut uri = format!("{report}?sort=quota_gb&filter=quota_gb.lt%3A1000&limit=70");
    loop {
        let (status, page) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r["quota_gb"].as_u64().expect("a quota under 1000")),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!(
                    "{report}?sort=quota_gb&filter=quota_gb.lt%3A1000&limit=70&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    let quota_users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE quota_gb < 1000")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(
        seen.len() as i64,
        quota_users,
        "paging visits every row once"
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "sorted by quota");
    assert_eq!(seen.first(), Some(&50));
}

async fn population_version(app: &TestApp, customer: i64) -> i64 {
    sqlx::query_scalar("SELECT version FROM population_versions WHERE customer_id = ?")
        .bind(customer)
        .fetch_one(&app.pool)
        .await
        .expect("population version")
}

#[tokio::test]
async fn a_reevaluation_while_scim_writes_arrive_loses_none_of_them() {
    let app = TestApp::with_demo_users(12_000).await;
    provisio_server::demo::seed_provisioning(&app.pool)
        .await
        .expect("demo provisioning seeds");
    let (customer, users): (i64, i64) = sqlx::query_as(
        "SELECT customer_id, COUNT(*) AS n FROM users WHERE scim_id IS NOT NULL \
         GROUP BY customer_id ORDER BY n DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the largest SCIM customer");
    assert!(
        users > provisio_server::reevaluation::BATCH_USERS,
        "the job runs in several batches"
    );
    let (token, _) = token_for(&app, customer, "entra_id").await;
    // "Sales and Marketing" (department is any of Sales, Marketing) moves to the top.
    let (_, listed) = app
        .get(&format!("/api/v1/customers/{customer}/mappings"))
        .await;
    let listed = listed.as_array().expect("mappings");
    let sales = listed
        .iter()
        .find(|m| m["name"] == "Sales and Marketing")
        .and_then(|m| m["id"].as_i64())
        .expect("the demo's attribute mapping");
    let ids: Vec<i64> = std::iter::once(sales)
        .chain(
            listed
                .iter()
                .filter_map(|m| m["id"].as_i64())
                .filter(|id| *id != sales),
        )
        .collect();
    let patched: Vec<(String, String)> = sqlx::query_as(
        "SELECT scim_id, email FROM users WHERE customer_id = ? AND scim_id IS NOT NULL \
         ORDER BY id DESC LIMIT 40",
    )
    .bind(customer)
    .fetch_all(&app.pool)
    .await
    .expect("users to patch");

    // While the job re-places everyone, the identity provider moves the last users (the job
    // reaches them last) to Sales, which the new first mapping matches.
    let order_uri = format!("/api/v1/customers/{customer}/mappings/order");
    let order = app.send(
        Method::PUT,
        &order_uri,
        Some(&app.msp_cookie),
        Some(json!({"ids": ids})),
    );
    let patches = futures_util::future::join_all(patched.iter().map(|(id, _)| {
        let (app, token) = (&app, &token);
        async move {
            scim(
                app,
                token,
                Method::PATCH,
                &format!("/scim/v2/Users/{id}"),
                Some(json!({"Operations": [{"op": "replace",
                    "path": format!("{ENTERPRISE}:department"), "value": "Sales"}]})),
            )
            .await
        }
    }));
    let (order, patches) = tokio::join!(order, patches);
    assert_eq!(order.status, StatusCode::OK, "{}", order.text);
    for answer in &patches {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    app.settled(&order).await;

    // The job writes its batches set-wise, keeping the report's counts, names and the
    // population version itself (migration 0024): they end as the row triggers would leave them.
    let changed: i64 =
        sqlx::query_scalar("SELECT changed FROM mapping_jobs ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .expect("the job");
    assert!(changed > 100, "the reorder moved many users ({changed})");
    let (kept, counted) = common::user_counts_kept_and_counted(&app.pool).await;
    assert_eq!(kept, counted, "user_counts follows the job's batches");
    let stale: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_report_names WHERE stale")
        .fetch_one(&app.pool)
        .await
        .expect("stale names");
    assert_eq!(stale, 0, "every moved user carries their new names");
    let raised: bool = sqlx::query_scalar("SELECT active FROM set_wise_writes")
        .fetch_one(&app.pool)
        .await
        .expect("flag");
    assert!(!raised, "the set-wise flag is never left raised");

    for (scim_id, email) in &patched {
        let (department, mapping_id): (Option<String>, Option<i64>) = sqlx::query_as(
            "SELECT json_extract(scim_attributes, '$.department'), mapping_id FROM users \
             WHERE scim_id = ?",
        )
        .bind(scim_id)
        .fetch_one(&app.pool)
        .await
        .expect("user");
        assert_eq!(department.as_deref(), Some("Sales"), "every PATCH stuck");
        assert_eq!(
            mapping_id,
            Some(sales),
            "{email} moved to Sales and Marketing"
        );
        let (_, explained) = app
            .get(&format!(
                "/api/v1/customers/{customer}/mappings/explain?email={}",
                email.replace('@', "%40")
            ))
            .await;
        assert_eq!(
            explained["placement"]["mapping_id"].as_i64(),
            mapping_id,
            "{email} is placed by the mappings and attributes as they ended"
        );
    }

    // Back to the first order, with nothing else writing: only the job's own bump of the
    // population version tells the previews' cache that placements changed.
    let version_before = population_version(&app, customer).await;
    let listed_ids: Vec<i64> = listed.iter().filter_map(|m| m["id"].as_i64()).collect();
    let back = app
        .send(
            Method::PUT,
            &order_uri,
            Some(&app.msp_cookie),
            Some(json!({"ids": listed_ids})),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    app.settled(&back).await;
    assert!(population_version(&app, customer).await > version_before);
    let (kept, counted) = common::user_counts_kept_and_counted(&app.pool).await;
    assert_eq!(kept, counted, "user_counts follows the second job too");
}

#[tokio::test]
async fn a_mapping_matches_the_customers_custom_attribute() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let (profiles, regions) = profiles_and_regions(&app, northwind).await;
    create_user(&app, &token, "emp@northwind.example", json!({})).await;
    create_user(&app, &token, "other@northwind.example", json!({})).await;
    sqlx::query(
        "UPDATE users SET custom_attribute_value = 'E-1' WHERE email = 'emp@northwind.example'",
    )
    .execute(&app.pool)
    .await
    .expect("custom attribute");
    let (_, options) = app
        .get(&format!("/api/v1/customers/{northwind}/mappings/options"))
        .await;
    // The demo customer names its custom attribute (its users carry it in the report).
    assert!(options["custom_attribute_name"].is_string(), "{options}");
    assert!(options["attributes"]
        .as_array()
        .expect("attributes")
        .contains(&json!("customAttribute")));

    let by_id = json!({"name": "Employee E-1", "enabled": true, "quota_gb": 10,
        "matcher": {"kind": "attribute", "attribute": "customAttribute", "operator": "any_of", "values": ["e-1"]},
        "profile_id": profiles[1], "storage_region_id": regions[1]});
    let saved = post_mapping(&app, &app.msp_cookie, northwind, by_id).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    app.settled(&saved).await;
    let (_, mappings) = app
        .get(&format!("/api/v1/customers/{northwind}/mappings"))
        .await;
    assert_eq!(
        mappings[0]["users"], 1,
        "counted once the job has placed them"
    );
    let (profile, region, mapping, status) = placement(&app, "emp@northwind.example").await;
    assert_eq!((profile, region), (profiles[1], Some(regions[1])));
    assert_eq!(mapping, mappings[0]["id"].as_i64());
    assert_eq!(status, "Active");
    assert_eq!(
        placement(&app, "other@northwind.example").await.3,
        "Pending"
    );
}

#[tokio::test]
async fn a_preview_sees_every_change_made_since_the_last_one() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let (profiles, regions) = profiles_and_regions(&app, northwind).await;
    let ada = create_user(
        &app,
        &token,
        "ada@northwind.example",
        json!({ENTERPRISE: {"department": "Finance"}}),
    )
    .await;
    let grace = create_user(
        &app,
        &token,
        "grace@northwind.example",
        json!({ENTERPRISE: {"department": "Sales"}}),
    )
    .await;
    let group = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Groups",
        Some(json!({"displayName": "Auditors"})),
    )
    .await;
    let group_id = group.body["id"].as_str().expect("group").to_owned();
    let finance = json!({"id": null, "mapping": {"name": "Finance", "enabled": true,
        "quota_gb": null, "profile_id": profiles[1], "storage_region_id": regions[1],
        "matcher": {"kind": "attribute", "attribute": "department", "operator": "any_of",
                    "values": ["Finance"]}}});
    let auditors = json!({"id": null, "mapping": {"name": "Auditors", "enabled": true,
        "quota_gb": null, "profile_id": profiles[1], "storage_region_id": regions[1],
        "matcher": {"kind": "groups", "groups": [group_id]}}});
    let matched = || async {
        let answer = app
            .send(
                Method::POST,
                &format!("/api/v1/customers/{northwind}/mappings/preview"),
                Some(&app.msp_cookie),
                Some(json!({"mappings": [finance, auditors]})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.body["matched"].clone()
    };
    assert_eq!(matched().await, json!([1, 0]));
    assert_eq!(matched().await, json!([1, 0]), "the same answer twice");

    let patch = |path: String, value: Value| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "add", "path": path, "value": value}]})
    };
    let moved = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Users/{grace}"),
        Some(patch(format!("{ENTERPRISE}:department"), json!("Finance"))),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(matched().await, json!([2, 0]), "an attribute changed");

    let joined = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Groups/{group_id}"),
        Some(patch("members".to_owned(), json!([{"value": ada}]))),
    )
    .await;
    assert!(joined.status.is_success(), "{}", joined.text);
    assert_eq!(matched().await, json!([2, 1]), "a member joined");

    let gone = scim(
        &app,
        &token,
        Method::DELETE,
        &format!("/scim/v2/Users/{ada}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(matched().await, json!([1, 0]), "a user left SCIM");

    // More changes, then the preview from the users brought up to date equals one from a
    // server that reads every user afresh (its cache is empty).
    let lin = create_user(
        &app,
        &token,
        "lin@northwind.example",
        json!({ENTERPRISE: {"department": "Finance"}}),
    )
    .await;
    let joined = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Groups/{group_id}"),
        Some(patch("members".to_owned(), json!([{"value": lin}]))),
    )
    .await;
    assert!(joined.status.is_success(), "{}", joined.text);
    let paused = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Users/{grace}"),
        Some(patch("active".to_owned(), json!(false))),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let preview_uri = format!("/api/v1/customers/{northwind}/mappings/preview");
    let body = json!({"mappings": [finance, auditors]});
    let cached = app
        .send(
            Method::POST,
            &preview_uri,
            Some(&app.msp_cookie),
            Some(body.clone()),
        )
        .await;
    let fresh = TestApp::from_router(
        provisio_server::app(
            provisio_server::AppState::new(app.pool.clone()),
            &provisio_server::AppOptions::default(),
        ),
        app.pool.clone(),
    );
    let afresh = fresh
        .send(
            Method::POST,
            &preview_uri,
            Some(&app.msp_cookie),
            Some(body),
        )
        .await;
    assert_eq!(cached.status, StatusCode::OK, "{}", cached.text);
    assert_eq!(cached.body, afresh.body);
    assert_eq!(cached.body["matched"], json!([2, 1]));
}

#[tokio::test]
async fn a_batch_decided_before_a_scim_change_is_decided_again_before_it_is_written() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let (profiles, regions) = profiles_and_regions(&app, northwind).await;
    let sales = json!({"name": "Sales", "enabled": true, "quota_gb": null,
        "matcher": {"kind": "attribute", "attribute": "department", "operator": "any_of", "values": ["Sales"]},
        "profile_id": profiles[0], "storage_region_id": regions[0]});
    let everyone = json!({"name": "Everyone", "enabled": true, "quota_gb": null,
        "matcher": {"kind": "all"},
        "profile_id": profiles[1], "storage_region_id": regions[1]});
    let listed = app
        .settled(&post_mapping(&app, &app.msp_cookie, northwind, sales).await)
        .await;
    let sales_id = listed[0]["id"].as_i64().expect("sales");
    app.settled(&post_mapping(&app, &app.msp_cookie, northwind, everyone).await)
        .await;
    let email = "grace@northwind.example";
    let grace = create_user(
        &app,
        &token,
        email,
        json!({(ENTERPRISE): {"department": "Engineering"}}),
    )
    .await;
    // Her placement is out of date, as before any re-evaluation: the job will move her.
    sqlx::query("UPDATE users SET mapping_id = ?, profile_id = ? WHERE email = ?")
        .bind(sales_id)
        .bind(profiles[0])
        .bind(email)
        .execute(&app.pool)
        .await
        .expect("out of date");
    let job = {
        let mut tx = app.pool.begin().await.expect("tx");
        let job = provisio_server::db::mappings::start_job(&mut tx, northwind)
            .await
            .expect("job");
        tx.commit().await.expect("commit");
        job
    };
    let planned = {
        let mut snapshot = app.pool.begin().await.expect("snapshot");
        provisio_server::db::mappings::plan_job_batch(&mut snapshot, job, 1_000)
            .await
            .expect("plan")
            .expect("a running job")
    };

    // Before the batch is written, the identity provider moves her to Sales.
    let patched = scim(
        &app,
        &token,
        Method::PATCH,
        &format!("/scim/v2/Users/{grace}"),
        Some(json!({"Operations": [{"op": "replace",
            "path": format!("{ENTERPRISE}:department"), "value": "Sales"}]})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);

    let mut tx = app.pool.begin().await.expect("tx");
    provisio_server::db::mappings::write_job_batch(&mut tx, job, planned, 1_000)
        .await
        .expect("write");
    tx.commit().await.expect("commit");
    let (profile, _, mapping, _) = placement(&app, email).await;
    assert_eq!(
        (profile, mapping),
        (profiles[0], Some(sales_id)),
        "the batch was decided again on her new department, not written as planned"
    );
}
