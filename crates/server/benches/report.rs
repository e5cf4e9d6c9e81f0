//! `cargo xtask bench report`: report paging cost at the start and deep into a large result.
//!
//! Seeds `PROVISIO_BENCH_USERS` demo users (default 1,000,000) into a temporary SQLite file and
//! drives the real router in-process, so the figures are handler plus SQL, without the network.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use provisio_api::auth::Role;
use provisio_server::{app, db, demo, AppOptions, AppState};
use serde_json::Value;
use tower::ServiceExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: u64 = std::env::var("PROVISIO_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let pool = db::connect(&url).await?;
    let started = Instant::now();
    let seeded = demo::seed(&pool, users).await?;
    println!(
        "seed {users} users: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let router = app(AppState::new(pool), &AppOptions::default());
    let admin = seeded
        .admins
        .iter()
        .find(|a| a.role == Role::MspAdmin)
        .ok_or("no MSP admin")?;
    let sign_in = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"email": admin.email, "password": admin.password}).to_string(),
        ))?;
    let response = router.clone().oneshot(sign_in).await?;
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()?
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();

    let get = |uri: String| {
        let router = router.clone();
        let cookie = cookie.clone();
        async move {
            let request = Request::get(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())?;
            let started = Instant::now();
            let response = router.oneshot(request).await?;
            let bytes = response.into_body().collect().await?.to_bytes();
            let elapsed = started.elapsed();
            let value: Value = serde_json::from_slice(&bytes)?;
            Ok::<_, Box<dyn std::error::Error>>((value, elapsed))
        }
    };
    let base = "/api/v1/reports/user-provisioning";
    println!("| query | first page (with total) | next page, start | next page, deep |");
    println!("|---|---|---|---|");
    for query in [
        "sort=user_name",
        "sort=-created_on",
        "sort=endpoints_usage_mb",
        "filter=user_status.any_of%3AActive&sort=user_email",
    ] {
        let (first, first_time) = get(format!("{base}?limit=100&{query}")).await?;
        let start_cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
        let start_time = median_page(&get, base, query, &start_cursor).await?;
        // Walk half-way through the result by big pages to reach a deep cursor.
        let total = first["total"].as_u64().unwrap_or(0);
        let mut cursor = start_cursor.clone();
        let mut seen = 100u64;
        while seen < total / 2 {
            let (page, _) = get(format!("{base}?limit=1000&{query}&cursor={cursor}")).await?;
            cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
            seen += 1000;
        }
        let deep_time = median_page(&get, base, query, &cursor).await?;
        println!(
            "| `{query}` ({total} rows) | {:.1} ms | {:.2} ms | {:.2} ms (row {seen}) |",
            ms(first_time),
            ms(start_time),
            ms(deep_time)
        );
    }
    let (_, facets) = get(format!("{base}/facets")).await?;
    println!("facets over {users} users: {:.1} ms", ms(facets));

    // Exports stream: read the body chunk by chunk, as a client would, and watch the process's
    // resident memory while it flows.
    for format in ["csv", "json"] {
        let request = Request::get(format!("{base}/export?format={format}"))
            .header(header::COOKIE, cookie.clone())
            .body(Body::empty())?;
        let baseline = resident_kib();
        let mut peak = baseline;
        let started = Instant::now();
        let mut body = router.clone().oneshot(request).await?.into_body();
        let (mut bytes, mut chunks) = (0usize, 0u64);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                bytes += data.len();
                chunks += 1;
                if chunks % 64 == 0 {
                    peak = peak.max(resident_kib());
                }
            }
        }
        println!(
            "export {format} of {users} rows: {:.1} s, {:.0} MB, resident memory {} MiB before, peak +{} MiB while streaming",
            started.elapsed().as_secs_f64(),
            bytes as f64 / 1e6,
            baseline / 1024,
            peak.saturating_sub(baseline) / 1024
        );
    }
    Ok(())
}

/// The process's resident set size in KiB (Linux), or 0 where it cannot be read.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

async fn median_page<F, Fut>(
    get: &F,
    base: &str,
    query: &str,
    cursor: &str,
) -> Result<Duration, Box<dyn std::error::Error>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Value, Duration), Box<dyn std::error::Error>>>,
{
    let mut times = Vec::new();
    for _ in 0..21 {
        let (_, elapsed) = get(format!("{base}?limit=100&{query}&cursor={cursor}")).await?;
        times.push(elapsed);
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
