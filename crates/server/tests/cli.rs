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
