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

/// The server binary on a fresh database with `extra` arguments: the child, its stdout lines
/// still to read, its base URL, and the metrics URL when it serves metrics.
fn spawn_server(
    dir: &std::path::Path,
    extra: &[&str],
) -> (
    std::process::Child,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    String,
    Option<String>,
) {
    use std::io::BufRead;
    let url = format!("sqlite://{}?mode=rwc", dir.join("run.db").display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_provisio-server"))
        .args(["--database", &url, "--no-demo", "--listen", "127.0.0.1:0"])
        .args(["--outbox-dir"])
        .arg(dir.join("outbox"))
        .args(extra)
        .env("PROVISIO_LOG_FORMAT", "json")
        .env("PROVISIO_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = std::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
    let mut metrics = None;
    let base = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .expect("a line");
        if let Some(address) = line.strip_prefix("Metrics are served on ") {
            metrics = Some(address.to_owned());
        }
        if let Some(address) = line.strip_prefix("Provisio is listening on ") {
            break address.to_owned();
        }
    };
    (server, lines, base, metrics)
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_json_logs_name_each_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, lines, address, _) = spawn_server(dir.path(), &[]);
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

#[tokio::test]
async fn metrics_are_served_on_their_own_address_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, _lines, base, metrics) =
        spawn_server(dir.path(), &["--metrics-listen", "127.0.0.1:0"]);
    let metrics = metrics.expect("the metrics address is printed");
    let client = reqwest::Client::new();
    for path in ["/readyz", "/readyz", "/api/v1/session", "/scim/v2/Users"] {
        client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("the server answers");
    }
    let public = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("answers");
    assert_eq!(public.status(), 404, "never on the public address");
    let text = client
        .get(&metrics)
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text");
    for expected in [
        r#"provisio_http_requests_total{method="GET",route="/readyz",status="200"} 2"#,
        r#"provisio_http_requests_total{method="GET",route="/api/v1/session",status="401"} 1"#,
        "provisio_http_request_duration_seconds_bucket{",
        "provisio_db_pool_connections ",
    ] {
        assert!(text.contains(expected), "{expected} in:\n{text}");
    }
    server.kill().expect("stop");
    let _ = server.wait();
}
