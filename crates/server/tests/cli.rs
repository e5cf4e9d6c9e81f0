//! The `provisio-server admin create` command against a real database file.

mod common;

use std::process::Command;

use axum::http::StatusCode;
use provisio_server::{app, db, AppOptions, AppState};

#[tokio::test]
async fn admin_create_makes_an_admin_who_can_sign_in_and_refuses_a_short_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let create = |password: &str| {
        Command::new(env!("CARGO_BIN_EXE_provisio-server"))
            .args([
                "--database",
                &url,
                "admin",
                "create",
                "--email",
                "ops@provisio.example",
            ])
            .args(["--role", "msp_admin", "--name", "Ops"])
            .env("PROVISIO_ADMIN_PASSWORD", password)
            .output()
            .expect("the server binary runs")
    };
    let refused = create("short");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("12 characters"));

    let created = create("a long enough password");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    let pool = db::connect(&url).await.expect("database opens");
    let test_app = common::TestApp::from_router(
        app(AppState::new(pool.clone()), &AppOptions::default()),
        pool,
    );
    let cookie = test_app
        .sign_in("ops@provisio.example", "a long enough password")
        .await
        .expect("the new admin signs in");
    let answer = test_app
        .send(
            axum::http::Method::GET,
            "/api/v1/admins",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body[0]["role"], "msp_admin");
}

#[tokio::test]
async fn backup_writes_a_copy_that_serves_the_same_report_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("live.db").display());
    let pool = db::connect(&url).await.expect("database opens");
    let seeded = provisio_server::demo::seed(&pool, 120)
        .await
        .expect("demo data");
    let copy = dir.path().join("copy.db");
    let backup = || {
        Command::new(env!("CARGO_BIN_EXE_provisio-server"))
            .args(["--database", &url, "backup", "--to"])
            .arg(&copy)
            .output()
            .expect("the server binary runs")
    };
    let written = backup();
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let again = backup();
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    let copied = db::connect(&format!("sqlite://{}?mode=rw", copy.display()))
        .await
        .expect("the copy opens");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&copied)
        .await
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    let mut totals = vec![];
    for pool in [pool, copied] {
        let test_app = common::TestApp::from_router(
            app(AppState::new(pool.clone()), &AppOptions::default()),
            pool,
        );
        let msp = seeded
            .admins
            .iter()
            .find(|a| a.role == provisio_api::auth::Role::MspAdmin)
            .expect("the MSP admin");
        let cookie = test_app
            .sign_in(msp.email, &msp.password)
            .await
            .expect("signs in");
        let page = test_app
            .send(
                axum::http::Method::GET,
                "/api/v1/reports/user-provisioning?sort=user_email&limit=5",
                Some(&cookie),
                None,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        totals.push((page.body["total"].clone(), page.body["rows"].clone()));
    }
    assert_eq!(totals[0], totals[1], "the copy serves the same report");
    assert_eq!(totals[0].0, 120);
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_json_logs_name_each_request() {
    use std::io::{BufRead, BufReader};

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("run.db").display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_provisio-server"))
        .args(["--database", &url, "--no-demo", "--listen", "127.0.0.1:0"])
        .args(["--outbox-dir"])
        .arg(dir.path().join("outbox"))
        .env("PROVISIO_LOG_FORMAT", "json")
        .env("PROVISIO_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .expect("a line");
        if let Some(address) = line.strip_prefix("Provisio is listening on ") {
            break address.to_owned();
        }
    };
    let client = reqwest::Client::new();
    for probe in ["/healthz", "/readyz"] {
        let answer = client
            .get(format!("{address}{probe}"))
            .header("x-request-id", "probe-0001")
            .send()
            .await
            .expect("the server answers");
        assert_eq!(answer.status(), 200, "{probe}");
        assert_eq!(answer.headers()["x-request-id"], "probe-0001");
    }
    let stopped = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(stopped.success());
    let status = server.wait().expect("the server exits");
    assert!(
        status.success(),
        "a stop on SIGTERM is a clean exit: {status}"
    );
    let logged: Vec<serde_json::Value> = lines
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect();
    assert!(
        logged
            .iter()
            .any(|entry| entry["span"]["request_id"] == "probe-0001"),
        "a JSON line names the request: {logged:?}"
    );
    assert!(logged.iter().any(|entry| entry["fields"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("stopping"))));
}
