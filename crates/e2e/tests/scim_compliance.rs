//! The python-scim `scim2-tester` compliance suite (through its `scim2` command line) against
//! the real server on loopback: no result may be an ERROR or CRITICAL.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use provisio_api::scim::IdentityProvider;
use provisio_e2e::TestServer;
use provisio_server::auth::hash_token;
use provisio_server::auth::scim_rate::ScimRateLimit;
use provisio_server::db::scim_tokens::{self, NewToken};
use provisio_server::AppState;

/// The `scim2` program: `cargo xtask test` installs it into the project's `.venv`.
fn scim2_cli() -> Result<PathBuf> {
    let path = std::env::var_os("PROVISIO_SCIM2_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.venv/bin/scim2"
            ))
        });
    if !path.exists() {
        bail!(
            "scim2 (pip package scim2-cli) is not at {}: run `cargo xtask test`, which installs it",
            path.display()
        );
    }
    Ok(path)
}

#[tokio::test]
async fn scim2_tester_finds_no_errors() -> Result<()> {
    let cli = scim2_cli()?;
    // The suite fires requests back to back; the per-token rate limit is not under test here.
    let server = TestServer::start_with(20, |state| AppState {
        scim_rate: Arc::new(ScimRateLimit::new(NonZeroU32::MAX)),
        ..state
    })
    .await?;
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers ORDER BY id LIMIT 1")
        .fetch_one(&server.pool)
        .await?;
    let token = "pvs_c0mpl1an_scim2-tester-run-token";
    scim_tokens::insert(
        &server.pool.clone().into(),
        &NewToken {
            customer_id: customer,
            name: "scim2-tester",
            identity_provider: IdentityProvider::Other,
            prefix: "pvs_c0mpl1an",
            token_hash: &hash_token(token),
            created_by: "compliance test",
            expires_at: Utc::now() + Duration::days(1),
        },
        2,
    )
    .await?
    .context("the customer already has two active tokens")?;

    let url = server.url("/scim/v2");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(cli)
            .args(["--url", &url, "test", "--verbose"])
            .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
            .output()
    })
    .await?
    .context("running scim2 test")?;
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    let failures: Vec<&str> = report
        .lines()
        .filter(|line| line.contains("ERROR") || line.contains("CRITICAL"))
        .collect();
    assert!(
        failures.is_empty(),
        "scim2-tester reported:\n{}",
        failures.join("\n")
    );
    let successes = report.lines().filter(|l| l.contains("SUCCESS")).count();
    assert!(
        successes > 10,
        "the suite ran its checks: {successes} successes"
    );
    Ok(())
}
