//! Sign-in, sessions, admin management, CSRF, throttling, headers and the audit log.

mod common;

on_both_backends!(
    signing_in_sets_an_http_only_strict_cookie_and_names_the_admin,
    a_wrong_password_and_an_unknown_email_get_the_same_answer,
    repeated_failures_are_throttled_with_retry_after_and_audited,
    signing_out_ends_the_session,
    an_idle_session_expires,
    changing_the_password_ends_every_session_and_the_new_one_works,
    msp_admins_create_admins_with_clear_errors_for_bad_input,
    the_last_active_msp_admin_cannot_be_disabled_or_demoted_and_disabling_ends_sessions,
    writes_from_another_origin_are_refused,
    every_response_carries_the_security_headers,
);

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use common::{Backend, TestApp};
use provisio_api::auth::Role;
use serde_json::json;

async fn signing_in_sets_an_http_only_strict_cookie_and_names_the_admin(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let admin = app.admin(Role::CustomerAdmin);
    let body = json!({"email": admin.email.to_uppercase(), "password": admin.password});
    let answer = app
        .send(Method::POST, "/api/v1/session", None, Some(body))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let cookie = answer.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cookie.starts_with("provisio_session="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_eq!(answer.body["role"], "customer_admin");
    assert_eq!(answer.body["customer"]["name"], "Northwind Traders");
    let stored: String = app.text("SELECT token_hash FROM sessions LIMIT 1").await;
    let token = cookie
        .split(';')
        .next()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v)
        .unwrap_or("");
    assert_ne!(stored, token, "the session id itself is not stored");
}

async fn a_wrong_password_and_an_unknown_email_get_the_same_answer(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let email = app.admin(Role::MspAdmin).email;
    let wrong = app
        .sign_in(email, "not the right password")
        .await
        .expect_err("refused");
    let unknown = app
        .sign_in("nobody@provisio.example", "not the right password")
        .await
        .expect_err("refused");
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        wrong.body["error"]["message"],
        "Email or password is incorrect."
    );
}

fn sign_in_from(address: &str, email: &str, password: &str) -> Request<Body> {
    let mut request = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .expect("request");
    let socket: SocketAddr = format!("{address}:40000").parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(socket));
    request
}

async fn repeated_failures_are_throttled_with_retry_after_and_audited(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let admin = app.admin(Role::ReadOnly);
    for _ in 0..5 {
        let answer = app
            .send_request(sign_in_from("10.1.2.3", admin.email, "guess guess guess"))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: the account is throttled, from any address.
    let answer = app
        .send_request(sign_in_from("10.9.9.9", admin.email, &admin.password))
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = answer.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry > 0 && retry <= 900);
    // Other accounts are unaffected.
    let other = app.admin(Role::MspAdmin);
    let answer = app
        .send_request(sign_in_from("10.9.9.9", other.email, &other.password))
        .await;
    assert_eq!(answer.status, StatusCode::OK);

    let (_, audit) = app.get("/api/v1/audit").await;
    let failures = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "sign_in_failed" && e["client_address"] == "10.1.2.3")
        .count();
    assert_eq!(failures, 5);
}

async fn signing_out_ends_the_session(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let cookie = app.sign_in_as(Role::ReadOnly).await;
    let answer = app
        .send(Method::DELETE, "/api/v1/session", Some(&cookie), None)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = app
        .send(Method::GET, "/api/v1/session", Some(&cookie), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

async fn an_idle_session_expires(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let cookie = app.sign_in_as(Role::ReadOnly).await;
    app.execute("UPDATE sessions SET last_seen_at = '2020-01-01T00:00:00Z'")
        .await;
    let answer = app
        .send(Method::GET, "/api/v1/session", Some(&cookie), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

async fn changing_the_password_ends_every_session_and_the_new_one_works(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let admin = app.admin(Role::CustomerAdmin);
    let first = app.sign_in_as(Role::CustomerAdmin).await;
    let second = app.sign_in_as(Role::CustomerAdmin).await;
    let short = json!({"current_password": admin.password, "new_password": "short"});
    let answer = app
        .send(
            Method::POST,
            "/api/v1/session/password",
            Some(&first),
            Some(short),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"]["parameter"], "new_password");

    let change =
        json!({"current_password": admin.password, "new_password": "a brand new passphrase"});
    let answer = app
        .send(
            Method::POST,
            "/api/v1/session/password",
            Some(&first),
            Some(change),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    for cookie in [&first, &second] {
        let answer = app
            .send(Method::GET, "/api/v1/session", Some(cookie), None)
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    assert!(app.sign_in(admin.email, &admin.password).await.is_err());
    assert!(app
        .sign_in(admin.email, "a brand new passphrase")
        .await
        .is_ok());
}

async fn msp_admins_create_admins_with_clear_errors_for_bad_input(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let cookie = app.msp_cookie.clone();
    let northwind: i64 = app
        .scalar("SELECT id FROM customers WHERE name = 'Northwind Traders'")
        .await;
    let good = json!({"email": "jo@northwindtraders.com", "display_name": "Jo", "role": "customer_admin",
                      "customer_id": northwind, "password": "a long enough password"});
    let answer = app
        .send(
            Method::POST,
            "/api/v1/admins",
            Some(&cookie),
            Some(good.clone()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["customer"]["name"], "Northwind Traders");
    assert!(app
        .sign_in("jo@northwindtraders.com", "a long enough password")
        .await
        .is_ok());

    let answer = app
        .send(
            Method::POST,
            "/api/v1/admins",
            Some(&cookie),
            Some(good.clone()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.body["error"]["parameter"], "email");

    let mut bad = good.clone();
    for (field, value, parameter) in [
        ("email", json!("not-an-email"), "email"),
        ("password", json!("short"), "password"),
        ("display_name", json!("   "), "display_name"),
        ("customer_id", json!(null), "customer_id"),
    ] {
        bad[field] = value;
        bad["email"] = if field == "email" {
            bad["email"].clone()
        } else {
            json!("new@x.example")
        };
        let answer = app
            .send(
                Method::POST,
                "/api/v1/admins",
                Some(&cookie),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            answer.body
        );
        assert_eq!(answer.body["error"]["parameter"], parameter, "{field}");
        bad = good.clone();
    }
    // A customer that does not exist is not there to be found: 404, naming the field.
    bad["customer_id"] = json!(999_999);
    bad["email"] = json!("new@x.example");
    let answer = app
        .send(Method::POST, "/api/v1/admins", Some(&cookie), Some(bad))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    assert_eq!(answer.body["error"]["parameter"], "customer_id");

    let malformed = Request::post("/api/v1/admins")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"email\": "))
        .expect("request");
    let answer = app.send_request(malformed).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"]["parameter"], "body");
}

async fn the_last_active_msp_admin_cannot_be_disabled_or_demoted_and_disabling_ends_sessions(
    backend: Backend,
) {
    let app = TestApp::on(backend, 10).await;
    let msp_id: i64 = app
        .scalar("SELECT id FROM admins WHERE role = 'msp_admin'")
        .await;
    let cookie = app.msp_cookie.clone();
    for change in [json!({"disabled": true}), json!({"role": "read_only"})] {
        let answer = app
            .send(
                Method::PATCH,
                &format!("/api/v1/admins/{msp_id}"),
                Some(&cookie),
                Some(change),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    }

    let viewer_id: i64 = app
        .scalar("SELECT id FROM admins WHERE role = 'read_only'")
        .await;
    let viewer_cookie = app.sign_in_as(Role::ReadOnly).await;
    let answer = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admins/{viewer_id}"),
            Some(&cookie),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["disabled"], true);
    let answer = app
        .send(Method::GET, "/api/v1/session", Some(&viewer_cookie), None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let viewer = app.admin(Role::ReadOnly);
    assert!(
        app.sign_in(viewer.email, &viewer.password).await.is_err(),
        "disabled admins cannot sign in"
    );

    let answer = app
        .send(
            Method::PATCH,
            "/api/v1/admins/424242",
            Some(&cookie),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    let (_, audit) = app.get("/api/v1/audit").await;
    assert!(audit
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["action"] == "admin_updated"));
}

async fn writes_from_another_origin_are_refused(backend: Backend) {
    let app = TestApp::on(backend, 10).await;
    let request = |origin: &str| {
        Request::delete("/api/v1/session")
            .header(header::HOST, "provisio.example:8080")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &app.msp_cookie)
            .body(Body::empty())
            .expect("request")
    };
    let answer = app.send_request(request("https://evil.example")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = app
        .send(Method::GET, "/api/v1/session", Some(&app.msp_cookie), None)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the session survived the forged request"
    );
    let answer = app
        .send_request(request("http://provisio.example:8080"))
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
}

async fn every_response_carries_the_security_headers(backend: Backend) {
    let app = TestApp::on(backend, 1).await;
    for (uri, cookie) in [
        ("/healthz", None),
        ("/api/v1/session", None),
        ("/api/v1/nowhere", Some(app.msp_cookie.as_str())),
    ] {
        let answer = app.send(Method::GET, uri, cookie, None).await;
        let csp = answer.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
            "{uri}"
        );
        assert_eq!(
            answer.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{uri}"
        );
        assert!(
            answer.headers.contains_key(header::REFERRER_POLICY),
            "{uri}"
        );
    }
}
