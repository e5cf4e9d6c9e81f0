//! The API contract: schemathesis (`--checks all`, fixed seed) over the server's own OpenAPI
//! document, against the real server on loopback, signed in as each role. Every operation is
//! exercised; any failure of any kind (a 5xx, a schema-valid request refused, a
//! schema-violating one accepted, an undocumented status or content type, a response that
//! does not match its schema) fails the test.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use provisio_api::auth::Role;
use provisio_e2e::TestServer;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");
/// Examples per operation: enough to find what the issue that introduced this run listed.
const EXAMPLES: &str = "100";

/// The `schemathesis` program: `cargo xtask test` installs it, pinned, into the `.venv`.
fn schemathesis() -> Result<PathBuf> {
    let path = std::env::var_os("PROVISIO_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("{MANIFEST}/../../.venv/bin/schemathesis")));
    if !path.exists() {
        bail!(
            "schemathesis is not at {}: run `cargo xtask test`, which installs it",
            path.display()
        );
    }
    Ok(path)
}

/// Signs in as the demo admin of `role`; the session cookie as a `Cookie` header value.
async fn session_cookie(server: &TestServer, role: Role) -> Result<String> {
    let admin = server.admin(role);
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/session"))
        .json(&serde_json::json!({"email": admin.email, "password": admin.password}))
        .send()
        .await?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("a session cookie")?;
    Ok(cookie.to_owned())
}

/// One schemathesis run over the operations `selection` picks; its report when it fails.
async fn run(server: &TestServer, cookie: &str, selection: &[&str]) -> Result<()> {
    let program = schemathesis()?;
    let mut command = Command::new(program);
    command
        .args(["--config-file", &format!("{MANIFEST}/schemathesis.toml")])
        .args(["--no-color", "run", &server.url("/api/openapi.json")])
        .args(["--checks", "all", "--seed", "1", "--max-examples", EXAMPLES])
        // One worker and deterministic generation: the same requests in the same order on
        // every run, so a result can be reproduced.
        .args(["--workers", "1", "--generation-deterministic"])
        .args(["--header", &format!("Cookie: {cookie}")])
        .args(selection);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("running schemathesis")?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "schemathesis found failures:\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let summary = report
        .lines()
        .find(|line| line.contains("generated"))
        .unwrap_or_default();
    println!("{selection:?}: {summary}");
    Ok(())
}

/// Every operation but the session's own first, then the session's (signing out ends the
/// run's session).
async fn contract_holds_for(role: Role) -> Result<()> {
    let server = TestServer::start(200).await?;
    let cookie = session_cookie(&server, role).await?;
    let session = "^/api/v1/session";
    run(&server, &cookie, &["--exclude-path-regex", session]).await?;
    run(&server, &cookie, &["--include-path-regex", session]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_its_contract_for_msp_admins() -> Result<()> {
    contract_holds_for(Role::MspAdmin).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_its_contract_for_customer_admins() -> Result<()> {
    contract_holds_for(Role::CustomerAdmin).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_its_contract_for_read_only_admins() -> Result<()> {
    contract_holds_for(Role::ReadOnly).await
}
