//! Okta's published SCIM 2.0 SPEC test (the Runscope/BlazeMeter suite an app must pass before
//! Okta lists it), step by step against the real router and SQLite. Okta sends
//! `application/json` bodies.

mod common;

on_both_backends!(okta_spec_test_steps_pass,);

use axum::http::{Method, StatusCode};
use common::scim::{customer_id, scim_with, token_for};
use common::Backend;
use common::{Answer, TestApp};
use serde_json::{json, Value};

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct Okta<'a> {
    app: &'a TestApp,
    token: String,
}

impl Okta<'_> {
    async fn send(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        scim_with(self.app, &self.token, method, uri, body, "application/json").await
    }
}

/// What the suite checks on every user it reads.
fn assert_okta_user(user: &Value) {
    for pointer in [
        "/id",
        "/userName",
        "/name/familyName",
        "/name/givenName",
        "/emails/0/value",
    ] {
        assert!(
            user.pointer(pointer)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty()),
            "{pointer} in {user}"
        );
    }
    assert!(user["active"].is_boolean(), "active in {user}");
}

fn realistic_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Runscope", "familyName": "Tester"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Runscope Tester",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

async fn okta_spec_test_steps_pass(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "okta").await;
    let okta = Okta { app: &app, token };
    // The suite needs one existing user to read.
    let seeded = okta
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(realistic_user("seed@northwind.example")),
        )
        .await;
    assert_eq!(seeded.status, StatusCode::CREATED, "{}", seeded.text);

    // 1. Test Users endpoint: the first user, with the attributes Okta maps.
    let first = okta
        .send(Method::GET, "/scim/v2/Users?count=1&startIndex=1", None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["Resources"].as_array().map(Vec::len), Some(1));
    assert_eq!(first.body["startIndex"], 1);
    assert_eq!(first.body["itemsPerPage"], 1);
    assert!(first.body["totalResults"].as_i64().is_some_and(|n| n >= 1));
    let listed = &first.body["Resources"][0];
    assert_okta_user(listed);

    // 2. Get a user by id.
    let id = listed["id"].as_str().expect("id");
    let by_id = okta
        .send(Method::GET, &format!("/scim/v2/Users/{id}"), None)
        .await;
    assert_eq!(by_id.status, StatusCode::OK);
    assert_eq!(by_id.body["id"], id);
    assert_okta_user(&by_id.body);

    // 3. An unknown userName filters to an empty list, not an error.
    let random = format!("{}@example.com", uuid_like());
    let unknown = okta
        .send(
            Method::GET,
            &format!("/scim/v2/Users?filter=userName%20eq%20%22{random}%22&startIndex=1&count=100"),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.body["totalResults"], 0);
    assert_eq!(unknown.body["Resources"], json!([]));

    // 4. An unknown id is 404 with a SCIM error and a detail.
    let missing = okta
        .send(
            Method::GET,
            &format!("/scim/v2/Users/{}", uuid_like()),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["schemas"][0], ERROR_SCHEMA);
    assert!(missing.body["detail"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));

    // 5–6. Create a user with realistic values (Okta sends extra attributes: accepted).
    let user_name = format!("runscope{}@atko.com", &uuid_like()[..8]);
    let created = okta
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(realistic_user(&user_name)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["userName"], user_name.as_str());
    assert_eq!(created.body["active"], true);
    assert_okta_user(&created.body);
    assert!(created.headers.contains_key("location"));
    let created_id = created.body["id"].as_str().expect("id").to_owned();

    // 7. Verify the user got created.
    let verified = okta
        .send(Method::GET, &format!("/scim/v2/Users/{created_id}"), None)
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(verified.body["userName"], user_name.as_str());
    assert_eq!(verified.body["name"]["familyName"], "Tester");

    // 8. Recreating the same user fails with 409.
    let again = okta
        .send(
            Method::POST,
            "/scim/v2/Users",
            Some(realistic_user(&user_name)),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["schemas"][0], ERROR_SCHEMA);

    // 9. Username case sensitivity: the upper-cased userName finds the same user.
    let upper = user_name.to_uppercase();
    let found = okta
        .send(
            Method::GET,
            &format!("/scim/v2/Users?filter=userName%20eq%20%22{upper}%22"),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], created_id.as_str());

    // 10. Optional: the Groups endpoint answers a list.
    let groups = okta.send(Method::GET, "/scim/v2/Groups", None).await;
    assert_eq!(groups.status, StatusCode::OK);
    assert!(groups.body["Resources"].is_array());

    // 11. A bad token is 401 with a SCIM error.
    let bad = Okta {
        app: &app,
        token: "pvs_00000000_not-a-token".to_owned(),
    };
    let refused = bad.send(Method::GET, "/scim/v2/Users", None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body["schemas"][0], ERROR_SCHEMA);

    // Okta's lifecycle afterwards: deactivate with PUT active=false keeps the user readable.
    let mut inactive = realistic_user(&user_name);
    inactive["active"] = json!(false);
    let put = okta
        .send(
            Method::PUT,
            &format!("/scim/v2/Users/{created_id}"),
            Some(inactive),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["active"], false);
    let still = okta
        .send(Method::GET, &format!("/scim/v2/Users/{created_id}"), None)
        .await;
    assert_eq!(still.body["active"], false);
}

/// A fresh random id in the form Okta's suite generates.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:032x}")
}
