//! A user's lifecycle over SCIM, through the real router over a real SQLite file: a user the
//! identity provider unassigns and assigns again, or deactivates and reactivates, comes back
//! with their data; a user Provisio already holds (AD/LDAP, by hand) is claimed, not refused;
//! nothing crosses customers.

mod common;

use axum::http::{Method, StatusCode};
use common::scim::{customer_id, scim, token_for};
use common::TestApp;
use provisio_api::auth::Role;
use serde_json::{json, Value};

fn user(email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "externalId": format!("ext-{email}"),
        "name": {"givenName": "Returning", "familyName": "User"},
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true
    })
}

/// A SCIM create of `user(email)`, as the identity provider sends it.
async fn post_user(app: &TestApp, token: &str, email: &str) -> common::Answer {
    scim(
        app,
        token,
        Method::POST,
        "/scim/v2/Users",
        Some(user(email)),
    )
    .await
}

/// usage, created_at, managed_by, status, scim_id of the customer's user with this email.
type Row = (i64, String, String, String, Option<String>);

async fn row(app: &TestApp, customer: i64, email: &str) -> Row {
    sqlx::query_as(
        "SELECT usage_mb, created_at, managed_by, status, scim_id FROM users \
         WHERE customer_id = ? AND email = ? COLLATE NOCASE",
    )
    .bind(customer)
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .expect("the user's row")
}

async fn last_event(app: &TestApp, target: &str) -> (String, Value) {
    let (action, changes): (String, String) = sqlx::query_as(
        "SELECT action, changes FROM provisioning_events WHERE target_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(target)
    .fetch_one(&app.pool)
    .await
    .expect("an event");
    (
        action,
        serde_json::from_str(&changes).expect("JSON changes"),
    )
}

#[tokio::test]
async fn entra_unassign_then_reassign_relinks_the_preserved_user() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let email = "grace@northwind.example";
    let created = post_user(&app, &token, email).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let first_id = created.body["id"].as_str().expect("id").to_owned();
    sqlx::query("UPDATE users SET usage_mb = 4242 WHERE scim_id = ?")
        .bind(&first_id)
        .execute(&app.pool)
        .await
        .expect("usage");
    let before = row(&app, northwind, email).await;

    let gone = scim(
        &app,
        &token,
        Method::DELETE,
        &format!("/scim/v2/Users/{first_id}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(row(&app, northwind, email).await.3, "Preserved");

    // Entra's match step finds nothing, so it creates the user again.
    let lookup = format!("/scim/v2/Users?filter=userName+eq+%22{email}%22");
    let found = scim(&app, &token, Method::GET, &lookup, None).await;
    assert_eq!(
        found.body["totalResults"], 0,
        "a deleted resource is not listed"
    );
    let again = post_user(&app, &token, email).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    let second_id = again.body["id"].as_str().expect("id").to_owned();
    assert_ne!(second_id, first_id, "the deleted id stays deleted");
    assert_eq!(again.body["active"], true);

    let after = row(&app, northwind, email).await;
    assert_eq!(after.0, 4242, "their backup data is kept");
    assert_eq!(after.1, before.1, "and their creation date");
    assert_eq!(after.3, "Active");
    assert_eq!(after.4.as_deref(), Some(second_id.as_str()));
    let old = scim(
        &app,
        &token,
        Method::GET,
        &format!("/scim/v2/Users/{first_id}"),
        None,
    )
    .await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let found = scim(&app, &token, Method::GET, &lookup, None).await;
    assert_eq!(found.body["Resources"][0]["id"], second_id.as_str());
    let (action, changes) = last_event(&app, &second_id).await;
    assert_eq!(action, "restore");
    assert_eq!(changes["match"]["after"], "re-assigned");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = ?")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(rows, 1, "one person, one row");
}

#[tokio::test]
async fn okta_deactivate_then_reactivate_restores() {
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let email = "linus@northwind.example";
    let created = post_user(&app, &token, email).await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    let uri = format!("/scim/v2/Users/{id}");
    for (active, status) in [(false, "Preserved"), (true, "Active")] {
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": active}}]});
        let answer = scim(&app, &token, Method::PATCH, &uri, Some(patch)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.body["active"], active);
        assert_eq!(row(&app, northwind, email).await.3, status);
    }
}

#[tokio::test]
async fn an_existing_user_is_claimed_a_live_one_refused_and_other_customers_untouched() {
    let app = TestApp::with_demo_users(400).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;

    // A user Provisio holds without SCIM (imported, or added by hand) is claimed by email.
    let (email, usage): (String, i64) = sqlx::query_as(
        "SELECT email, usage_mb FROM users WHERE customer_id = ? AND scim_id IS NULL LIMIT 1",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("a non-SCIM user");
    let before = row(&app, northwind, &email).await;
    let claimed = post_user(&app, &token, &email.to_uppercase()).await;
    assert_eq!(claimed.status, StatusCode::CREATED, "{}", claimed.text);
    let id = claimed.body["id"].as_str().expect("id").to_owned();
    let after = row(&app, northwind, &email).await;
    assert_eq!(
        (after.0, &after.1),
        (usage, &before.1),
        "data and creation date kept"
    );
    assert_eq!(
        after.2, "Microsoft Entra ID",
        "now managed by the token's identity provider"
    );
    let (action, changes) = last_event(&app, &id).await;
    assert_eq!(action, "match");
    assert_eq!(changes["managedBy"]["before"], before.2.as_str());

    // Now that SCIM holds them, another create of the same person is a conflict.
    let twice = post_user(&app, &token, &email).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.body["scimType"], "uniqueness");

    // A same-email user of another customer is neither claimed nor seen.
    let (other, other_email): (i64, String) = sqlx::query_as(
        "SELECT customer_id, email FROM users WHERE customer_id <> ? AND scim_id IS NULL LIMIT 1",
    )
    .bind(northwind)
    .fetch_one(&app.pool)
    .await
    .expect("another customer's user");
    let theirs_before = row(&app, other, &other_email).await;
    let created = post_user(&app, &token, &other_email).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(row(&app, other, &other_email).await, theirs_before);
    let mine = row(&app, northwind, &other_email).await;
    assert_eq!(
        mine.0, 0,
        "a new user of this customer, with no data of theirs"
    );
}

/// The report's Custom Attribute Name and Value of the user with this email.
async fn custom_attribute_of(app: &TestApp, email: &str) -> (String, String) {
    sqlx::query_as(
        "SELECT custom_attribute_name, custom_attribute_value FROM users \
         WHERE email = ? COLLATE NOCASE",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .expect("the user")
}

#[tokio::test]
async fn the_customers_custom_attribute_is_filled_from_scim_and_kept_current() {
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let app = TestApp::with_demo_users(40).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let mut first = user("ada@northwind.example");
    first[ENTERPRISE] = json!({"employeeNumber": "E-100", "department": "Finance"});
    let created = scim(&app, &token, Method::POST, "/scim/v2/Users", Some(first)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uri = format!(
        "/scim/v2/Users/{}",
        created.body["id"].as_str().expect("id")
    );
    // A user SCIM does not manage keeps what their directory gave them.
    let (ldap_email, ldap_attribute): (String, (String, String)) = {
        let row: (String, String, String) = sqlx::query_as(
            "SELECT email, custom_attribute_name, custom_attribute_value FROM users \
             WHERE customer_id = ? AND scim_id IS NULL ORDER BY id LIMIT 1",
        )
        .bind(northwind)
        .fetch_one(&app.pool)
        .await
        .expect("a Northwind user outside SCIM");
        (row.0, (row.1, row.2))
    };

    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let setting_uri = format!("/api/v1/customers/{northwind}/scim/custom-attribute");
    let unset = app
        .send(Method::GET, &setting_uri, Some(&admin), None)
        .await;
    assert_eq!(unset.body, json!({"attribute": null, "shown": true}));
    let put = |attribute: Value, shown: bool| Some(json!({"attribute": attribute, "shown": shown}));
    let set = app
        .send(
            Method::PUT,
            &setting_uri,
            Some(&admin),
            put(json!("employeeNumber"), true),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(
        custom_attribute_of(&app, "ada@northwind.example").await,
        ("employeeNumber".to_owned(), "E-100".to_owned()),
        "existing SCIM users are filled at once"
    );

    let patched = scim(
        &app,
        &token,
        Method::PATCH,
        &uri,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "E-200"}
            ]}),
        ),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(
        custom_attribute_of(&app, "ada@northwind.example").await.1,
        "E-200",
        "a SCIM change keeps it current"
    );
    let mut second = user("grace@northwind.example");
    second[ENTERPRISE] = json!({"employeeNumber": "E-300"});
    let created = scim(&app, &token, Method::POST, "/scim/v2/Users", Some(second)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        custom_attribute_of(&app, "grace@northwind.example").await,
        ("employeeNumber".to_owned(), "E-300".to_owned()),
        "a SCIM create is filled"
    );
    let report = app
        .send(
            Method::GET,
            "/api/v1/reports/user-provisioning?filter=custom_attribute_value.equals%3AE-300",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(report.body["total"], 1, "{}", report.text);
    assert_eq!(
        report.body["rows"][0]["custom_attribute_name"],
        "employeeNumber"
    );

    // Hidden, the report shows none; shown again, it is back; unset, SCIM fills nothing.
    app.send(
        Method::PUT,
        &setting_uri,
        Some(&admin),
        put(json!("employeeNumber"), false),
    )
    .await;
    assert_eq!(
        custom_attribute_of(&app, "ada@northwind.example").await,
        (String::new(), String::new())
    );
    app.send(
        Method::PUT,
        &setting_uri,
        Some(&admin),
        put(json!("department"), true),
    )
    .await;
    assert_eq!(
        custom_attribute_of(&app, "ada@northwind.example").await,
        ("department".to_owned(), "Finance".to_owned())
    );
    app.send(
        Method::PUT,
        &setting_uri,
        Some(&admin),
        put(Value::Null, true),
    )
    .await;
    assert_eq!(
        custom_attribute_of(&app, "grace@northwind.example").await,
        (String::new(), String::new())
    );
    assert_eq!(
        custom_attribute_of(&app, &ldap_email).await,
        ldap_attribute,
        "users outside SCIM are untouched"
    );

    let unknown = app
        .send(
            Method::PUT,
            &setting_uri,
            Some(&admin),
            put(json!("password"), true),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    let reader = app.sign_in_as(Role::ReadOnly).await;
    let refused = app
        .send(
            Method::PUT,
            &setting_uri,
            Some(&reader),
            put(json!("title"), true),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let contoso = customer_id(&app, "Contoso Pharmaceuticals").await;
    let elsewhere = app
        .send(
            Method::GET,
            &format!("/api/v1/customers/{contoso}/scim/custom-attribute"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}
