//! SCIM 2.0 through the real router and SQLite: tokens, RFC behaviours and IdP quirks.

mod common;

on_both_backends!(
    tokens_are_bound_to_one_customer_and_revocation_is_immediate,
    at_most_two_active_tokens_and_discovery_endpoints_answer,
    versions_guard_writes_with_if_match_and_reads_with_if_none_match,
);

use axum::http::{header, Method, StatusCode};
use common::scim::{customer_id, scim, token_for};
use common::Backend;
use common::TestApp;
use provisio_api::auth::Role;
use serde_json::{json, Value};

fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": external_id, "userName": user_name, "active": true,
        "displayName": "Ada Lovelace",
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "name": {"givenName": "Ada", "familyName": "Lovelace"}
    })
}

#[tokio::test]
async fn an_idp_creates_finds_updates_preserves_restores_and_deletes_a_user() {
    let app = TestApp::with_demo_users(50).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;

    let created = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(entra_user("ada@northwind.example", "e-1")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.headers[header::CONTENT_TYPE],
        "application/scim+json"
    );
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.body["meta"]["location"],
        format!("/scim/v2/Users/{id}")
    );

    // It is in the report at once, Active, licensed, managed by the token's IdP.
    let (_, report) = app
        .get("/api/v1/reports/user-provisioning?filter=user_email.equals%3Aada%40northwind.example")
        .await;
    let row = &report["rows"][0];
    assert_eq!(row["customer_name"], "Northwind Traders");
    assert_eq!(row["user_status"], "Active");
    assert_eq!(row["endpoints_license"], "active");
    assert_eq!(row["managed_by"], "Microsoft Entra ID");
    assert_eq!(row["user_name"], "Ada Lovelace");

    // A duplicate userName, in another case, is a uniqueness conflict.
    let duplicate = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(entra_user("ADA@northwind.example", "e-2")),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.body["scimType"], "uniqueness");

    // Entra's lookup filter finds it; an unsupported filter is invalidFilter.
    let found = scim(
        &app,
        &token,
        Method::GET,
        "/scim/v2/Users?filter=userName+eq+%22Ada%40Northwind.example%22",
        None,
    )
    .await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id);
    let none = scim(
        &app,
        &token,
        Method::GET,
        "/scim/v2/Users?filter=externalId+eq+%22nope%22",
        None,
    )
    .await;
    assert_eq!(none.body["totalResults"], 0);
    let bad = scim(
        &app,
        &token,
        Method::GET,
        "/scim/v2/Users?filter=userName+co+%22a%22",
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["scimType"], "invalidFilter");

    // Entra disables with "False" as a string: the user is preserved, not gone.
    let user_uri = format!("/scim/v2/Users/{id}");
    let disabled = scim(
        &app,
        &token,
        Method::PATCH,
        &user_uri,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
        })),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(disabled.body["active"], false);
    let (_, report) = app
        .get("/api/v1/reports/user-provisioning?filter=user_email.equals%3Aada%40northwind.example")
        .await;
    assert_eq!(report["rows"][0]["user_status"], "Preserved");
    assert_eq!(report["rows"][0]["endpoints_license"], "preserved");

    // Okta restores with a path-less value.
    let restored = scim(
        &app,
        &token,
        Method::PATCH,
        &user_uri,
        Some(json!({
            "Operations": [{"op": "replace", "value": {"active": true}}]
        })),
    )
    .await;
    assert_eq!(restored.body["active"], true);

    // PUT without an email is refused, naming the attribute.
    let mut no_email = entra_user("ada@northwind.example", "e-1");
    no_email.as_object_mut().expect("object").remove("emails");
    let refused = scim(&app, &token, Method::PUT, &user_uri, Some(no_email)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["scimType"], "invalidValue");
    assert!(refused.body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("emails")));

    // DELETE ends the SCIM resource but keeps the user in Provisio, preserved.
    let deleted = scim(&app, &token, Method::DELETE, &user_uri, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        scim(&app, &token, Method::GET, &user_uri, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (_, report) = app
        .get("/api/v1/reports/user-provisioning?filter=user_email.equals%3Aada%40northwind.example")
        .await;
    assert_eq!(report["total"], 1);
    assert_eq!(report["rows"][0]["user_status"], "Preserved");

    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT action, outcome FROM provisioning_events ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("events");
    let actions: Vec<&str> = events.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["create", "create", "preserve", "restore", "update", "delete"]
    );
    assert_eq!(events[1].1, "failure");
}

async fn tokens_are_bound_to_one_customer_and_revocation_is_immediate(backend: Backend) {
    let app = TestApp::on(backend, 50).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let woodgrove = customer_id(&app, "Woodgrove Bank").await;
    let (north_token, north_id) = token_for(&app, northwind, "okta").await;
    let (wood_token, _) = token_for(&app, woodgrove, "entra_id").await;

    let created = scim(
        &app,
        &wood_token,
        Method::POST,
        "/scim/v2/Users",
        Some(entra_user("w@woodgrove.example", "w-1")),
    )
    .await;
    let wood_user = created.body["id"].as_str().expect("id").to_owned();
    let uri = format!("/scim/v2/Users/{wood_user}");
    assert_eq!(
        scim(&app, &north_token, Method::GET, &uri, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let patch = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(
        scim(&app, &north_token, Method::PATCH, &uri, Some(patch))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        scim(&app, &north_token, Method::DELETE, &uri, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = scim(&app, &north_token, Method::GET, "/scim/v2/Users", None).await;
    assert_eq!(
        listed.body["totalResults"], 0,
        "Northwind's token sees none of Woodgrove's users"
    );

    for bad in ["", "pvs_nope", &format!("{north_token}x")] {
        let answer = scim(&app, bad, Method::GET, "/scim/v2/Users", None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(
            answer.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    let customer_admin = app.sign_in_as(Role::CustomerAdmin).await;
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/api/v1/customers/{northwind}/scim-tokens/{north_id}"),
            Some(&customer_admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        scim(&app, &north_token, Method::GET, "/scim/v2/Users", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let foreign = app
        .send(
            Method::GET,
            &format!("/api/v1/customers/{woodgrove}/scim-tokens"),
            Some(&customer_admin),
            None,
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "a customer admin cannot reach another customer's tokens"
    );

    let (_, listed) = app
        .get(&format!("/api/v1/customers/{northwind}/scim-tokens"))
        .await;
    assert_eq!(listed[0]["status"], "revoked");
    assert!(listed[0]["last_used_at"].is_string());
    assert!(
        !listed.to_string().contains(&north_token),
        "the secret is never listed"
    );
}

async fn at_most_two_active_tokens_and_discovery_endpoints_answer(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    token_for(&app, northwind, "okta").await;
    let third = app
        .send(
            Method::POST,
            &format!("/api/v1/customers/{northwind}/scim-tokens"),
            Some(&app.msp_cookie),
            Some(json!({"name": "Third", "identity_provider": "okta", "lifetime_days": 30})),
        )
        .await;
    assert_eq!(third.status, StatusCode::CONFLICT);
    let bad = app
        .send(
            Method::POST,
            &format!("/api/v1/customers/{northwind}/scim-tokens"),
            Some(&app.msp_cookie),
            Some(json!({"name": "x", "identity_provider": "okta", "lifetime_days": 7})),
        )
        .await;
    assert_eq!(bad.body["error"]["parameter"], "lifetime_days");
    for path in [
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/ResourceTypes",
        "/scim/v2/Schemas",
    ] {
        let answer = scim(&app, &token, Method::GET, path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.body["schemas"].is_array(), "{path}");
    }
    assert_eq!(
        scim(&app, &token, Method::GET, "/scim/v2/Nope", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let garbage = scim(&app, &token, Method::POST, "/scim/v2/Users", None).await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

async fn create_user(app: &TestApp, token: &str, user_name: &str) -> String {
    let created = scim(
        app,
        token,
        Method::POST,
        "/scim/v2/Users",
        Some(entra_user(user_name, user_name)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn groups_hold_members_that_idps_add_remove_and_query() {
    let app = TestApp::with_demo_users(10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let woodgrove = customer_id(&app, "Woodgrove Bank").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let (wood_token, _) = token_for(&app, woodgrove, "okta").await;
    let ada = create_user(&app, &token, "ada@northwind.example").await;
    let grace = create_user(&app, &token, "grace@northwind.example").await;
    let stranger = create_user(&app, &wood_token, "w@woodgrove.example").await;

    // Okta creates a group with members; a duplicate name in another case is a conflict.
    let created = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Groups",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Sales", "externalId": "okta-g1",
            "members": [{"value": ada, "display": "Ada"}]
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let group = created.body["id"].as_str().expect("id").to_owned();
    let uri = format!("/scim/v2/Groups/{group}");
    assert_eq!(created.body["members"][0]["value"], ada.as_str());
    assert_eq!(created.body["meta"]["location"], uri.as_str());
    let duplicate = scim(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Groups",
        Some(json!({"displayName": "SALES"})),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.body["scimType"], "uniqueness");

    // Entra adds by value array; a user of another customer is not a user here.
    let added = scim(
        &app,
        &token,
        Method::PATCH,
        &uri,
        Some(json!({"Operations": [{"op": "Add", "path": "members",
                                    "value": [{"$ref": null, "value": grace}]}]})),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    assert_eq!(added.body["members"].as_array().map(Vec::len), Some(2));
    let foreign = scim(
        &app,
        &token,
        Method::PATCH,
        &uri,
        Some(json!({"Operations": [{"op": "Add", "path": "members", "value": [{"value": stranger}]}]})),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    assert_eq!(foreign.body["scimType"], "invalidValue");

    // Entra's membership check and name lookup, with members left out.
    let check = |filter: String| {
        let app = &app;
        let token = &token;
        async move {
            scim(
                app,
                token,
                Method::GET,
                &format!("/scim/v2/Groups?excludedAttributes=members&filter={filter}"),
                None,
            )
            .await
        }
    };
    let member = check(format!("id+eq+%22{group}%22+and+members+eq+%22{grace}%22")).await;
    assert_eq!(member.body["totalResults"], 1, "{}", member.text);
    assert!(member.body["Resources"][0].get("members").is_none());
    let by_name = check("displayName+eq+%22sales%22".to_owned()).await;
    assert_eq!(by_name.body["totalResults"], 1);
    let bad = check("userName+eq+%22x%22".to_owned()).await;
    assert_eq!(bad.body["scimType"], "invalidFilter");

    // Okta removes by value filter and renames with a path-less replace carrying the id.
    let renamed = scim(
        &app,
        &token,
        Method::PATCH,
        &uri,
        Some(json!({"Operations": [
            {"op": "remove", "path": format!("members[value eq \"{ada}\"]")},
            {"op": "replace", "value": {"id": group, "displayName": "Sales EMEA"}}
        ]})),
    )
    .await;
    assert_eq!(renamed.body["displayName"], "Sales EMEA");
    assert_eq!(renamed.body["members"][0]["value"], grace.as_str());
    assert_eq!(renamed.body["members"].as_array().map(Vec::len), Some(1));
    let not_member = check(format!("id+eq+%22{group}%22+and+members+eq+%22{ada}%22")).await;
    assert_eq!(not_member.body["totalResults"], 0);

    // A user deleted over SCIM leaves the member list; the group stays.
    scim(
        &app,
        &token,
        Method::DELETE,
        &format!("/scim/v2/Users/{grace}"),
        None,
    )
    .await;
    let fetched = scim(&app, &token, Method::GET, &uri, None).await;
    assert_eq!(fetched.body["members"].as_array().map(Vec::len), Some(0));

    // Another customer's token cannot see the group; DELETE removes it.
    let listed = scim(&app, &wood_token, Method::GET, "/scim/v2/Groups", None).await;
    assert_eq!(listed.body["totalResults"], 0);
    assert_eq!(
        scim(&app, &wood_token, Method::DELETE, &uri, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        scim(&app, &token, Method::DELETE, &uri, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        scim(&app, &token, Method::GET, &uri, None).await.status,
        StatusCode::NOT_FOUND
    );
    let events: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, outcome, changes FROM provisioning_events \
         WHERE action LIKE '%group' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("events");
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|(a, o, _)| (a.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("create_group", "success"),
            ("create_group", "failure"),
            ("update_group", "success"),
            ("update_group", "failure"),
            ("update_group", "success"),
            // Another customer's token deleting it: not found, and logged for that customer.
            ("delete_group", "failure"),
            ("delete_group", "success"),
        ]
    );
    assert!(events[2].2.contains(&grace), "the added member is logged");
}

async fn versions_guard_writes_with_if_match_and_reads_with_if_none_match(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let id = create_user(&app, &token, "ada@northwind.example").await;
    let uri = format!("/scim/v2/Users/{id}");
    let read = scim(&app, &token, Method::GET, &uri, None).await;
    let etag = read.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    assert_eq!(read.body["meta"]["version"], etag.as_str());

    let send = |method: Method, headers: Vec<(header::HeaderName, String)>, body: Option<Value>| {
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(&uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/scim+json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        app.send_request(request.body(axum::body::Body::from(body)).expect("request"))
    };
    let unchanged = send(
        Method::GET,
        vec![(header::IF_NONE_MATCH, etag.clone())],
        None,
    )
    .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);

    let rename =
        json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Ada L."}]});
    let patched = send(
        Method::PATCH,
        vec![(header::IF_MATCH, etag.clone())],
        Some(rename.clone()),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let newer = patched.headers[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    assert_ne!(newer, etag, "a change makes a new version");

    // The old version no longer matches: the write is refused and nothing changes.
    let stale = send(
        Method::PATCH,
        vec![(header::IF_MATCH, etag.clone())],
        Some(json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Lost"}]})),
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let stale_delete = send(Method::DELETE, vec![(header::IF_MATCH, etag)], None).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let current = scim(&app, &token, Method::GET, &uri, None).await;
    assert_eq!(current.body["displayName"], "Ada L.");
    let changed = send(
        Method::GET,
        vec![(header::IF_NONE_MATCH, "W/\"1\"".to_owned())],
        None,
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    let deleted = send(Method::DELETE, vec![(header::IF_MATCH, newer)], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_token_past_its_rate_gets_429_with_retry_after_and_others_carry_on() {
    let app = TestApp::with_state(10, |state| provisio_server::AppState {
        scim_rate: std::sync::Arc::new(provisio_server::auth::scim_rate::ScimRateLimit::new(
            std::num::NonZeroU32::MIN,
        )),
        ..state
    })
    .await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let woodgrove = customer_id(&app, "Woodgrove Bank").await;
    let (busy, _) = token_for(&app, northwind, "entra_id").await;
    let (calm, _) = token_for(&app, woodgrove, "okta").await;
    let first = scim(&app, &busy, Method::GET, "/scim/v2/Users", None).await;
    assert_eq!(first.status, StatusCode::OK);
    // A burst of two is allowed at one request per second; a dozen in a row cannot all pass.
    let mut limited = None;
    for _ in 0..12 {
        let answer = scim(&app, &busy, Method::GET, "/scim/v2/Users", None).await;
        if answer.status != StatusCode::OK {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("the token is limited");
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(
        limited.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(
        scim(&app, &calm, Method::GET, "/scim/v2/Users", None)
            .await
            .status,
        StatusCode::OK,
        "another customer's token has its own budget"
    );
}

#[tokio::test]
async fn directory_attributes_round_trip_through_post_patch_and_get() {
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let app = TestApp::with_demo_users(20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let mut user = entra_user("grace@northwind.example", "e-9");
    user["title"] = json!("Analyst");
    user["userType"] = json!("Member");
    user[ENTERPRISE] = json!({"department": "Finance", "employeeNumber": "42"});
    user["addresses"] = json!([{"type": "work", "locality": "London", "country": "GB"}]);
    let created = scim(&app, &token, Method::POST, "/scim/v2/Users", Some(user)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let uri = format!(
        "/scim/v2/Users/{}",
        created.body["id"].as_str().expect("id")
    );

    let patched = scim(
        &app,
        &token,
        Method::PATCH,
        &uri,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales"},
                {"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Paris"}
            ]}),
        ),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);

    let read = scim(&app, &token, Method::GET, &uri, None).await;
    assert_eq!(read.body["title"], "Analyst");
    assert_eq!(read.body["userType"], "Member");
    assert_eq!(read.body[ENTERPRISE]["department"], "Sales");
    assert_eq!(read.body[ENTERPRISE]["employeeNumber"], "42");
    assert_eq!(read.body["addresses"][0]["locality"], "Paris");
    assert_eq!(read.body["addresses"][0]["country"], "GB");
    assert!(read.body["schemas"]
        .as_array()
        .is_some_and(|s| s.contains(&json!(ENTERPRISE))));

    let schema = scim(
        &app,
        &token,
        Method::GET,
        &format!("/scim/v2/Schemas/{ENTERPRISE}"),
        None,
    )
    .await;
    assert_eq!(schema.status, StatusCode::OK);
    let names: Vec<&str> = schema.body["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        names.contains(&"department") && names.contains(&"costCenter"),
        "{names:?}"
    );
}
