//! `cargo xtask bench web`: the web app's first download (each hashed asset as the server
//! sends it, brotli) and the time from navigation to the report's first rows in headless
//! Chromium with a cold cache, against the release server on loopback over
//! `PROVISIO_BENCH_USERS` demo users (default 1,000,000).
//!
//! The app marks the moment its first rows are on screen (`provisio:first-rows` in the
//! browser's performance timeline); its start time is measured from the navigation's start.

use std::time::Instant;

use anyhow::{bail, Result};
use provisio_api::auth::Role;
use provisio_e2e::{dist_dir, Browser, TestServer};
use serde_json::Value;

/// Each run starts a new browser profile, so nothing is cached.
const RUNS: usize = 7;

#[tokio::main]
async fn main() -> Result<()> {
    let users: u64 = std::env::var("PROVISIO_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    // As `provisio-server serve` does at start: the compressed copies are sent as they are.
    provisio_server::http::static_files::precompress(&dist_dir())?;
    let server = TestServer::start(users).await?;
    println!(
        "seed {users} users and start the server: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    asset_sizes(&server).await?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        times.push(first_rows(&server).await?);
    }
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "\nnavigation to the report's first rows, cold cache, {users} users: p50 {:.0} ms, \
         max {:.0} ms (runs: {} ms)",
        times[RUNS / 2],
        times[RUNS - 1],
        shown.join(", ")
    );
    Ok(())
}

/// Every hashed asset of the built app, fetched as a browser asks for it.
async fn asset_sizes(server: &TestServer) -> Result<()> {
    let http = reqwest::Client::new();
    let mut names: Vec<String> = std::fs::read_dir(dist_dir())?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| {
            [".wasm", ".js", ".css"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .collect();
    names.sort();
    println!("\n| asset | raw | as sent | encoding | cache |");
    println!("|---|---|---|---|---|");
    let mut total = 0;
    for name in names {
        let raw = std::fs::metadata(dist_dir().join(&name))?.len();
        let answer = http
            .get(server.url(&format!("/{name}")))
            .header("Accept-Encoding", "br, gzip")
            .send()
            .await?;
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let (encoding, cache) = (header("content-encoding"), header("cache-control"));
        let sent = answer.bytes().await?.len() as u64;
        total += sent;
        println!("| `{name}` | {raw} | {sent} | {encoding} | {cache} |");
    }
    println!(
        "\nfirst load: {total} bytes ({:.0} KB) for wasm, js and css",
        total as f64 / 1000.0
    );
    Ok(())
}

/// Milliseconds from navigating to the report to its first rows on screen, in a new browser.
async fn first_rows(server: &TestServer) -> Result<f64> {
    let browser = Browser::start().await?;
    // Signed in from a page of the origin that loads none of the app, so its cache stays cold.
    browser.client.goto(&server.url("/healthz")).await?;
    let admin = server.admin(Role::MspAdmin);
    let script = "const done = arguments[arguments.length - 1];\
        fetch('/api/v1/session', {method: 'POST', headers: {'Content-Type': 'application/json'},\
            body: JSON.stringify({email: arguments[0], password: arguments[1]})})\
        .then(r => done(r.status), e => done(String(e)));";
    let status = browser
        .client
        .execute_async(
            script,
            vec![admin.email.into(), admin.password.clone().into()],
        )
        .await?;
    if status != 200 {
        bail!("signing in answered {status}");
    }
    browser.client.goto(&server.url("/")).await?;
    let script = "return performance.getEntriesByName('provisio:first-rows')\
        .map(e => e.startTime)[0] ?? null;";
    let time = browser
        .eventually("the report's first rows", || async {
            Ok(match browser.eval(script).await? {
                Value::Number(ms) => ms.as_f64(),
                _ => None,
            })
        })
        .await;
    browser.close().await?;
    time
}
