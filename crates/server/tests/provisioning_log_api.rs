//! The provisioning log and status through the real router over a real SQLite file: SCIM
//! requests and refusals as events, every filter, paging, isolation, the states, retention,
//! downloads and failure mail through a real SMTP server on loopback.

mod common;

on_both_backends!(
    scim_requests_and_refusals_are_events_that_every_filter_finds,
    refusals_at_the_door_are_logged_for_the_tokens_customer,
    each_state_follows_from_what_the_identity_provider_did,
    search_and_status_answer_the_same_before_and_after_indexing,
);

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use common::scim::{customer_id, scim, token_for};
use common::smtp::SmtpSink;
use common::Backend;
use common::{mail_settings, TestApp};
use provisio_api::auth::Role;
use provisio_server::delivery::mail::Mailer;
use provisio_server::{db, demo, provisioning_watch};
use serde_json::{json, Value};

fn user(email: &str) -> Value {
    json!({"userName": email, "emails": [{"value": email}], "active": true,
           "displayName": "Ada Lovelace", "externalId": format!("ext-{email}")})
}

/// Every page of `query` as the MSP admin, `limit` at a time: (ids, first page's total).
async fn all_pages(app: &TestApp, cookie: &str, query: &str, limit: u32) -> (Vec<i64>, u64) {
    let mut ids = vec![];
    let mut cursor: Option<String> = None;
    let mut total = None;
    loop {
        let mut uri = format!("/api/v1/provisioning/events?{query}&limit={limit}");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let page = app.send(Method::GET, &uri, Some(cookie), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        if total.is_none() {
            total = page.body["total"].as_u64();
        } else {
            assert!(page.body["total"].is_null(), "only the first page counts");
        }
        for row in page.body["rows"].as_array().expect("rows") {
            ids.push(row["id"].as_i64().expect("id"));
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    (ids, total.expect("a total on the first page"))
}

/// POSTs a user with the token.
async fn create(app: &TestApp, token: &str, body: Value) -> common::Answer {
    scim(app, token, Method::POST, "/scim/v2/Users", Some(body)).await
}

/// `n` creates the server refuses (no email): failures in the token's customer's log.
async fn refused_creates(app: &TestApp, token: &str, n: usize) {
    for _ in 0..n {
        let refused = create(app, token, json!({"userName": "no-email"})).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    }
}

async fn set_token_expiry(app: &TestApp, token_id: i64, at: chrono::DateTime<Utc>) {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.execute(&format!(
        "UPDATE scim_tokens SET expires_at = '{at}' WHERE id = {token_id}"
    ))
    .await;
}

async fn forget_failures(app: &TestApp) {
    app.execute("DELETE FROM provisioning_events WHERE outcome = 'failure'")
        .await;
}

async fn state_of(app: &TestApp, customer: i64) -> String {
    let (status, body) = app
        .get(&format!("/api/v1/provisioning/status?customer={customer}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body[0]["state"].as_str().expect("state").to_owned()
}

async fn scim_requests_and_refusals_are_events_that_every_filter_finds(backend: Backend) {
    let app = TestApp::on(backend, 40).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, token_id) = token_for(&app, northwind, "entra_id").await;
    let email = "ada@northwind.example";

    let request = Request::builder()
        .method(Method::POST)
        .uri("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header("x-request-id", "idp-change-0001")
        .body(Body::from(user(email).to_string()))
        .expect("request");
    let created = app.send_request(request).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.headers["x-request-id"], "idp-change-0001");
    let clash = create(&app, &token, user(email)).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    let clash_id = clash.headers["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    assert!(!clash_id.is_empty(), "a request without an id gets one");
    let missing = scim(
        &app,
        &token,
        Method::DELETE,
        "/scim/v2/Users/no-such-id",
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let query = format!("customer={northwind}&range=24h");
    let (status, page) = app
        .get(&format!("/api/v1/provisioning/events?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let rows = page["rows"].as_array().expect("rows");
    let ours: Vec<&Value> = rows.iter().filter(|r| r["token_id"] == token_id).collect();
    assert_eq!(ours.len(), 3, "{page}");
    let (newest, conflict, create) = (ours[0], ours[1], ours[2]);
    assert_eq!(create["status"], "success");
    assert_eq!(create["kind"], "create");
    assert_eq!(create["identity"], format!("Ada Lovelace ({email})"));
    assert_eq!(create["request_id"], "idp-change-0001");
    assert_eq!(create["source_id"], format!("ext-{email}"));
    assert_eq!(create["target_id"], created.body["id"]);
    assert!(create["duration_ms"].as_i64().is_some());
    assert_eq!(
        create["source_system"], "Microsoft Entra ID · IdP",
        "identity provider and token name"
    );
    assert_eq!(conflict["status"], "failure");
    assert_eq!(conflict["request_id"], clash_id.as_str());
    assert_eq!(newest["kind"], "delete");
    assert_eq!(newest["target_id"], "no-such-id");

    // Each filter alone keeps what it says.
    for (filter, expected) in [
        (
            "status=failure",
            vec![newest["id"].clone(), conflict["id"].clone()],
        ),
        ("status=success&action=create", vec![create["id"].clone()]),
        ("action=delete", vec![newest["id"].clone()]),
        (
            "q=ADA@northwind",
            vec![conflict["id"].clone(), create["id"].clone()],
        ),
        ("q=idp-change-0001", vec![create["id"].clone()]),
        (
            &format!("q=ext-{email}"),
            vec![conflict["id"].clone(), create["id"].clone()],
        ),
    ] {
        let uri = format!("/api/v1/provisioning/events?{query}&token={token_id}&{filter}");
        let (status, page) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids: Vec<Value> = page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["id"].clone())
            .collect();
        assert_eq!(ids, expected, "{filter}");
        assert_eq!(page["total"], expected.len(), "{filter}");
    }
    let (_, none) = app
        .get("/api/v1/provisioning/events?range=custom&since=2020-01-01&until=2020-01-31")
        .await;
    assert_eq!(none["total"], 0, "a custom range in the past is empty");

    // The conflict's detail: why, what to do, a link to the existing user, what it tried.
    let (status, detail) = app
        .get(&format!("/api/v1/provisioning/events/{}", conflict["id"]))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["troubleshooting"]["code"], "uniqueness");
    let existing = app
        .scalar(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await;
    assert_eq!(detail["troubleshooting"]["existing_user_id"], existing);
    assert_eq!(detail["troubleshooting"]["existing_user_email"], email);
    assert_eq!(detail["http_status"], 409);
    assert!(detail["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .any(|c| c["property"] == "userName" && c["after"] == email));
    let steps: Vec<(&str, &str)> = detail["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(steps[1], ("Authenticated", "success"));
    assert_eq!(steps[3], ("Validated", "failure"));
    assert_eq!(steps[5], ("Committed", "not_reached"));
    assert!(
        !detail.to_string().contains(&token),
        "the token never appears"
    );

    // Facets list only what occurs, with counts.
    let (_, facets) = app
        .get(&format!("/api/v1/provisioning/events/facets?{query}"))
        .await;
    let failure = facets["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .find(|f| f["value"] == "failure")
        .expect("failures occur");
    assert!(failure["count"].as_u64() >= Some(2));
    assert!(facets["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .any(|f| f["value"] == token_id && f["label"] == "Microsoft Entra ID · IdP"));

    // The download holds the same events, with modified properties.
    let csv = app
        .send(
            Method::GET,
            &format!("/api/v1/provisioning/events/export?{query}&token={token_id}&format=csv"),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "Date (UTC)");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 3);
    assert!(
        records[2][12].contains(email),
        "modified properties: {:?}",
        records[2]
    );
    let json_export = app
        .send(
            Method::GET,
            &format!("/api/v1/provisioning/events/export?{query}&token={token_id}&format=json"),
            Some(&app.msp_cookie),
            None,
        )
        .await;
    assert_eq!(json_export.body.as_array().map(Vec::len), Some(3));
    assert_eq!(json_export.body[2]["change_id"], "idp-change-0001");
}

async fn refusals_at_the_door_are_logged_for_the_tokens_customer(backend: Backend) {
    let app = TestApp::on(backend, 20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, token_id) = token_for(&app, northwind, "okta").await;
    set_token_expiry(&app, token_id, Utc::now() - Duration::days(1)).await;
    let refused = create(&app, &token, user("x@n.example")).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // A token nobody issued reaches no customer, so no customer's log holds it.
    let unknown = scim(&app, "pvs_nope", Method::GET, "/scim/v2/Users", None).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let (_, page) = app
        .get(&format!(
            "/api/v1/provisioning/events?token={token_id}&status=failure"
        ))
        .await;
    assert_eq!(page["total"], 1, "{page}");
    let event = &page["rows"][0];
    assert_eq!(event["kind"], "create");
    let (_, detail) = app
        .get(&format!("/api/v1/provisioning/events/{}", event["id"]))
        .await;
    assert_eq!(detail["troubleshooting"]["code"], "token_expired");
    assert!(detail["troubleshooting"]["action"]
        .as_str()
        .is_some_and(|a| a.contains("Generate a new token")));
    assert_eq!(detail["steps"][1]["status"], "failure");
    assert_eq!(state_of(&app, northwind).await, "token_expired");
}

#[tokio::test]
async fn paging_through_the_whole_log_equals_the_unpaged_log_either_way() {
    let app = TestApp::with_demo_users(200).await;
    demo::seed_provisioning(&app.pool).await.expect("SCIM demo");
    demo::seed_provisioning_log(&app.pool, Utc::now())
        .await
        .expect("log demo");
    let cookie = app.msp_cookie.clone();
    for query in [
        "range=30d",
        "range=30d&sort=at",
        "range=7d&status=failure,warning",
    ] {
        let (paged, total) = all_pages(&app, &cookie, query, 37).await;
        let (whole, _) = all_pages(&app, &cookie, query, 1000).await;
        assert_eq!(paged, whole, "{query}");
        assert_eq!(paged.len() as u64, total, "{query}");
        assert_eq!(
            paged.iter().collect::<BTreeSet<_>>().len(),
            paged.len(),
            "no repeats"
        );
        assert!(total > 0, "{query}");
    }
    let bad = app
        .send(
            Method::GET,
            "/api/v1/provisioning/events?range=30d&cursor=bm9wZQ",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["parameter"], "cursor");
    // Control characters in a search are dropped, never an error.
    let odd = app
        .send(
            Method::GET,
            "/api/v1/provisioning/events?q=%00%C2%BB%3BZ%24%0B",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(odd.status, StatusCode::OK, "{}", odd.text);
    let unknown = app
        .send(
            Method::GET,
            "/api/v1/provisioning/events?colour=red",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_customers_admin_sees_only_their_customers_events_and_counts() {
    let app = TestApp::with_demo_users(200).await;
    demo::seed_provisioning(&app.pool).await.expect("SCIM demo");
    demo::seed_provisioning_log(&app.pool, Utc::now())
        .await
        .expect("log demo");
    let northwind = customer_id(&app, "Northwind Traders").await;
    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    // A custom range without dates keeps every event.
    let (ids, total) = all_pages(&app, &admin, "range=custom", 500).await;
    assert!(total > 0);
    let theirs: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM provisioning_events WHERE customer_id = ? ORDER BY at DESC, id DESC",
    )
    .bind(northwind)
    .fetch_all(&app.pool)
    .await
    .expect("their events");
    assert_eq!(ids, theirs);
    let foreign: i64 =
        sqlx::query_scalar("SELECT id FROM provisioning_events WHERE customer_id <> ? LIMIT 1")
            .bind(northwind)
            .fetch_one(&app.pool)
            .await
            .expect("another customer's event");
    let other_customer: i64 =
        sqlx::query_scalar("SELECT customer_id FROM provisioning_events WHERE id = ?")
            .bind(foreign)
            .fetch_one(&app.pool)
            .await
            .expect("customer");
    for uri in [
        format!("/api/v1/provisioning/events/{foreign}"),
        format!("/api/v1/provisioning/status?customer={other_customer}"),
        format!("/api/v1/customers/{other_customer}/provisioning/notifications"),
    ] {
        let answer = app.send(Method::GET, &uri, Some(&admin), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let asked = app
        .send(
            Method::GET,
            &format!("/api/v1/provisioning/events?customer={other_customer}&range=30d"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        asked.body["total"], 0,
        "filtering by another customer finds nothing"
    );
    let facets = app
        .send(
            Method::GET,
            "/api/v1/provisioning/events/facets?range=30d",
            Some(&admin),
            None,
        )
        .await;
    let customers: Vec<i64> = facets.body["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .filter_map(|f| f["value"].as_i64())
        .collect();
    assert_eq!(customers, vec![northwind]);
    let status = app
        .send(
            Method::GET,
            "/api/v1/provisioning/status",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status.body.as_array().map(Vec::len), Some(1));
    assert_eq!(status.body[0]["customer_id"], northwind);
    assert_eq!(status.body[0]["hourly"].as_array().map(Vec::len), Some(24));
    let export = app
        .send(
            Method::GET,
            "/api/v1/provisioning/events/export?range=custom&format=json",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(export.body.as_array().map(Vec::len), Some(theirs.len()));
}

async fn each_state_follows_from_what_the_identity_provider_did(backend: Backend) {
    let app = TestApp::on(backend, 20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    assert_eq!(state_of(&app, northwind).await, "not_configured");
    let (token, token_id) = token_for(&app, northwind, "entra_id").await;
    assert_eq!(state_of(&app, northwind).await, "waiting");
    let ok = create(&app, &token, user("a@n.example")).await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(state_of(&app, northwind).await, "healthy");
    refused_creates(&app, &token, 1).await;
    assert_eq!(state_of(&app, northwind).await, "degraded", "1 of 2 failed");
    refused_creates(&app, &token, 20).await;
    assert_eq!(state_of(&app, northwind).await, "failing");
    let (_, all) = app.get("/api/v1/provisioning/status").await;
    let row = all
        .as_array()
        .expect("statuses")
        .iter()
        .find(|s| s["customer_id"] == northwind)
        .expect("northwind");
    assert_eq!(row["failures_24h"], 21);
    assert_eq!(row["changes_24h"], 22);
    assert_eq!(row["scim_users"], 1);

    set_token_expiry(&app, token_id, Utc::now() + Duration::days(3)).await;
    let fine = create(&app, &token, user("b@n.example")).await;
    assert_eq!(fine.status, StatusCode::CREATED);
    forget_failures(&app).await;
    assert_eq!(state_of(&app, northwind).await, "token_expiring");
    set_token_expiry(&app, token_id, Utc::now() - Duration::hours(1)).await;
    assert_eq!(state_of(&app, northwind).await, "token_expired");
}

#[tokio::test]
async fn retention_removes_exactly_the_events_past_it() {
    let app = TestApp::with_demo_users(100).await;
    demo::seed_provisioning(&app.pool).await.expect("SCIM demo");
    let now = Utc::now();
    demo::seed_provisioning_log(&app.pool, now)
        .await
        .expect("log demo");
    let cutoff = (now - Duration::days(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let count = |sql: &'static str| {
        let pool = app.pool.clone();
        let cutoff = cutoff.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(cutoff)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    let old = count("SELECT COUNT(*) FROM provisioning_events WHERE at < ?").await;
    let kept = count("SELECT COUNT(*) FROM provisioning_events WHERE at >= ?").await;
    assert!(old > 1000, "more than one batch to remove: {old}");
    let removed = provisioning_watch::enforce_retention(&app.database, 10, now)
        .await
        .expect("retention");
    assert_eq!(removed, old as u64);
    assert_eq!(
        count("SELECT COUNT(*) FROM provisioning_events WHERE at < ?").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM provisioning_events WHERE at >= ?").await,
        kept
    );
}

#[tokio::test]
async fn a_customer_turning_failing_mails_its_recipients_once() {
    let sink = SmtpSink::start().await;
    let app = TestApp::with_demo_users(20).await;
    let mail = mail_settings(Mailer::smtp(&sink.url()).expect("smtp"));
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;

    let uri = format!("/api/v1/customers/{northwind}/provisioning/notifications");
    let reader = app.sign_in_as(Role::ReadOnly).await;
    let forbidden = app
        .send(
            Method::PUT,
            &uri,
            Some(&reader),
            Some(json!({"recipients": ["a@x.example"]})),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let invalid = app
        .send(
            Method::PUT,
            &uri,
            Some(&app.msp_cookie),
            Some(json!({"recipients": ["not an address"]})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let admin = app.sign_in_as(Role::CustomerAdmin).await;
    let set = app
        .send(
            Method::PUT,
            &uri,
            Some(&admin),
            Some(json!({"recipients": ["it@northwind.example", "IT@northwind.example", "ops@northwind.example"]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(
        set.body["recipients"],
        json!(["it@northwind.example", "ops@northwind.example"])
    );

    refused_creates(&app, &token, 20).await;
    assert_eq!(state_of(&app, northwind).await, "failing");
    assert_eq!(
        provisioning_watch::notify(&app.database, &mail)
            .await
            .expect("pass"),
        1
    );
    assert_eq!(
        provisioning_watch::notify(&app.database, &mail)
            .await
            .expect("pass"),
        0,
        "not again"
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mut to = messages[0].to.clone();
    to.sort();
    assert_eq!(to, vec!["it@northwind.example", "ops@northwind.example"]);
    let text = String::from_utf8_lossy(&messages[0].data);
    assert!(text.contains("Northwind Traders: Failing"), "{text}");
    assert!(text.contains("/provisioning/logs?customer="), "{text}");

    // Back to healthy, then failing again: told again.
    for n in 0..20 {
        let ok = create(&app, &token, user(&format!("u{n}@n.example"))).await;
        assert_eq!(ok.status, StatusCode::CREATED);
    }
    forget_failures(&app).await;
    assert_eq!(state_of(&app, northwind).await, "healthy");
    assert_eq!(
        provisioning_watch::notify(&app.database, &mail)
            .await
            .expect("pass"),
        0
    );
    refused_creates(&app, &token, 20).await;
    assert_eq!(
        provisioning_watch::notify(&app.database, &mail)
            .await
            .expect("pass"),
        1
    );
    assert_eq!(sink.messages().len(), 2);
}

async fn search_and_status_answer_the_same_before_and_after_indexing(backend: Backend) {
    let app = TestApp::on(backend, 20).await;
    let northwind = customer_id(&app, "Northwind Traders").await;
    let (token, _) = token_for(&app, northwind, "entra_id").await;
    let answers = || async {
        let (_, search) = app
            .get("/api/v1/provisioning/events?q=lovelace&range=24h")
            .await;
        let (_, status) = app
            .get(&format!("/api/v1/provisioning/status?customer={northwind}"))
            .await;
        let ids: Vec<Value> = search["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["id"].clone())
            .collect();
        (ids, search["total"].clone(), status)
    };
    for round in 0..2 {
        for n in 0..3 {
            let email = format!("ada.{round}.{n}@northwind.example");
            let mut body = user(&email);
            body["displayName"] = json!("Ada Lovelace");
            assert_eq!(create(&app, &token, body).await.status, StatusCode::CREATED);
        }
        refused_creates(&app, &token, 2).await;
        let before = answers().await;
        assert_eq!(before.1, 3 * (round + 1), "{before:?}");
        // Two events per write transaction the first round, so a backlog spans batches.
        let batch = if round == 0 {
            2
        } else {
            db::provisioning_log::INDEX_BATCH_EVENTS
        };
        let indexed = db::provisioning_log::index_new_in_batches(&app.database, batch)
            .await
            .expect("indexing");
        assert!(indexed >= 5, "the new events are indexed: {indexed}");
        assert_eq!(answers().await, before, "round {round}");
        assert_eq!(
            db::provisioning_log::index_new(&app.database)
                .await
                .expect("indexing"),
            0,
            "nothing new"
        );
    }
    let (_, status) = app
        .get(&format!("/api/v1/provisioning/status?customer={northwind}"))
        .await;
    assert_eq!(status[0]["changes_24h"], 10);
    assert_eq!(status[0]["failures_24h"], 4);
    let hourly: u64 = status[0]["hourly"]
        .as_array()
        .expect("hours")
        .iter()
        .filter_map(|h| h["changes"].as_u64())
        .sum();
    assert_eq!(hourly, 10);
}
