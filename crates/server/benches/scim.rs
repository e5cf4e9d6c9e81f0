//! `cargo xtask bench scim`: sustained SCIM user creates and PATCHes per second, with
//! concurrent clients over real HTTP on loopback, against the embedded SQLite.
//!
//! `PROVISIO_BENCH_SCIM_USERS` users (default 4,000) are created by `PROVISIO_BENCH_SCIM_CLIENTS`
//! concurrent clients (default 16) sharing one customer's token, as one identity provider's
//! provisioning cycle would, then each is PATCHed (deactivated, as Entra sends it). The
//! per-token rate limit is lifted: the figures are the server's capacity, not the limit's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisio_server::{app, db, demo, AppOptions};
use serde_json::{json, Value};

const TOKEN: &str = "pvs_benchmrk_scim-benchmark-token";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

mod support;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users = env_number("PROVISIO_BENCH_SCIM_USERS", 4_000);
    let clients = env_number("PROVISIO_BENCH_SCIM_CLIENTS", 16).max(1);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("scim.db").display());
    let pool = db::connect(&url).await?;
    demo::seed(&pool, 10_000).await?;
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers ORDER BY id LIMIT 1")
        .fetch_one(&pool)
        .await?;
    support::scim_token(&pool, customer, TOKEN).await?;
    let state = support::unthrottled(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/scim/v2", listener.local_addr()?);
    let router = app(state, &AppOptions::default());
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    println!("{users} users, {clients} concurrent clients, one token, HTTP/1.1 on loopback");

    let (ids, creates) = phase(&http, &base, clients, users, |i| {
        let user_name = format!("bench.user{i}@contoso.example");
        (
            reqwest::Method::POST,
            "/Users".to_owned(),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "externalId": format!("ext-{i}"), "userName": user_name, "active": true,
                "displayName": format!("Bench User {i}"),
                "emails": [{"primary": true, "type": "work", "value": user_name}],
                "name": {"givenName": "Bench", "familyName": format!("User {i}")}
            }),
        )
    })
    .await?;
    report("create", &creates);
    let ids = Arc::new(ids);
    let (_, patches) = phase(&http, &base, clients, users, {
        let ids = Arc::clone(&ids);
        move |i| {
            (
                reqwest::Method::PATCH,
                format!("/Users/{}", ids[i]),
                json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
                }),
            )
        }
    })
    .await?;
    report("patch", &patches);
    Ok(())
}

struct Timings {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

/// Sends `total` requests built by `request(i)` from `clients` concurrent clients; returns the
/// created ids (in request order, for POSTs) and the timings.
async fn phase<F>(
    http: &reqwest::Client,
    base: &str,
    clients: usize,
    total: usize,
    request: F,
) -> Result<(Vec<String>, Timings), Box<dyn std::error::Error>>
where
    F: Fn(usize) -> (reqwest::Method, String, Value) + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, base, request) = (http.clone(), base.to_owned(), Arc::clone(&request));
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            for i in (client..total).step_by(clients) {
                let (method, path, body) = request(i);
                let sent = Instant::now();
                let response = http
                    .request(method, format!("{base}{path}"))
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/scim+json")
                    .body(body.to_string())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                let answer: Value = response.json().await.map_err(|e| e.to_string())?;
                let latency = sent.elapsed();
                if !status.is_success() {
                    return Err(format!("{status}: {answer}"));
                }
                let id = answer["id"].as_str().unwrap_or_default().to_owned();
                done.push((i, id, latency));
            }
            Ok::<_, String>(done)
        }));
    }
    let mut results = Vec::with_capacity(total);
    for task in tasks {
        results.extend(task.await??);
    }
    let elapsed = started.elapsed();
    results.sort_by_key(|(i, _, _)| *i);
    let latencies = results.iter().map(|(_, _, l)| *l).collect();
    let ids = results.into_iter().map(|(_, id, _)| id).collect();
    Ok((ids, Timings { latencies, elapsed }))
}

fn report(what: &str, timings: &Timings) {
    let mut sorted = timings.latencies.clone();
    sorted.sort();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    };
    let per_second = sorted.len() as f64 / timings.elapsed.as_secs_f64();
    println!(
        "{what}: {} requests in {:.2} s = {per_second:.0}/s; p50 {:.2} ms, p99 {:.2} ms",
        sorted.len(),
        timings.elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
    );
}
