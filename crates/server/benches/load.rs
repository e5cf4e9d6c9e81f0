//! `cargo xtask bench load`: mixed load at `PROVISIO_BENCH_USERS` users (default 1,000,000)
//! for `PROVISIO_BENCH_SECONDS` (default 60): 100 concurrent report readers (first pages of
//! mixed sorts and filters, then one to three next pages each) while an identity provider sends
//! SCIM creates and PATCHes at 200 per second. Reports throughput, p50 and p99 per kind, and
//! errors (any answer that is not the expected status).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisio_api::auth::Role;
use provisio_server::{db, demo};
use serde_json::{json, Value};
use support::{print_latencies, serve, sign_in, Failure};
use tokio::sync::Mutex;

mod support;

const TOKEN: &str = "pvs_benchload_load-benchmark-token-0123";
const READERS: usize = 100;
const SCIM_PER_SECOND: u64 = 200;
/// The readers' queries: sorts both ways, single and combined filters.
const QUERIES: [&str; 10] = [
    "",
    "sort=user_name",
    "sort=-created_on",
    "sort=user_email",
    "sort=-endpoints_usage_mb",
    "filter=user_status.any_of%3AActive&sort=user_email",
    "filter=user_email.contains%3Asmith",
    "filter=endpoints_usage_mb.gt%3A50000&sort=-endpoints_usage_mb",
    "filter=created_on.in_last_days%3A90&sort=-created_on",
    "filter=user_status.any_of%3AActive&filter=managed_by.any_of%3AOkta&sort=user_name",
];

/// Latencies of one kind of request, and how many were not answered as expected.
#[derive(Default)]
struct Kind {
    latencies: Mutex<Vec<Duration>>,
    errors: AtomicU64,
}

impl Kind {
    async fn record(&self, started: Instant, ok: bool) {
        self.latencies.lock().await.push(started.elapsed());
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Results {
    first_pages: Kind,
    next_pages: Kind,
    creates: Kind,
    patches: Kind,
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let number = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let users = number("PROVISIO_BENCH_USERS", 1_000_000);
    let seconds = number("PROVISIO_BENCH_SECONDS", 60);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display());
    let pool = db::connect(&url).await?;
    let started = Instant::now();
    let seeded = demo::seed(&pool, users).await?;
    println!(
        "seeded {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // As the server does.
    db::spawn_checkpointer(pool.clone(), Duration::from_secs(1));
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers ORDER BY id LIMIT 1")
        .fetch_one(&pool)
        .await?;
    support::scim_token(&pool, customer, TOKEN).await?;
    let base = serve(support::unthrottled(pool.clone())).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(READERS + 50)
        .build()?;
    let msp = seeded
        .admins
        .iter()
        .find(|a| a.role == Role::MspAdmin)
        .ok_or("the demo MSP admin")?;
    let cookie = sign_in(&http, &base, msp.email, &msp.password).await?;

    let results = Arc::new(Results::default());
    let running = Arc::new(AtomicBool::new(true));
    let load_started = Instant::now();
    let mut tasks = vec![];
    for reader in 0..READERS {
        let (http, base, cookie) = (http.clone(), base.clone(), cookie.clone());
        let (results, running) = (results.clone(), running.clone());
        tasks.push(tokio::spawn(async move {
            let mut turn = reader;
            while running.load(Ordering::Relaxed) {
                let query = QUERIES[turn % QUERIES.len()];
                turn += 1;
                let at = Instant::now();
                let page = report_page(&http, &base, &cookie, query, None).await;
                results.first_pages.record(at, page.is_some()).await;
                let mut cursor = page.and_then(|p| p["next_cursor"].as_str().map(str::to_owned));
                for _ in 0..(1 + turn % 3) {
                    let Some(next) = cursor.take() else { break };
                    let at = Instant::now();
                    let page = report_page(&http, &base, &cookie, query, Some(&next)).await;
                    results.next_pages.record(at, page.is_some()).await;
                    cursor = page.and_then(|p| p["next_cursor"].as_str().map(str::to_owned));
                }
            }
        }));
    }
    // The identity provider: one request every 5 ms, creates and PATCHes of what it created.
    let created = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / SCIM_PER_SECOND));
    let mut sent = 0_u64;
    let mut writers = vec![];
    while load_started.elapsed() < Duration::from_secs(seconds) {
        ticker.tick().await;
        sent += 1;
        let (http, base, results, created) =
            (http.clone(), base.clone(), results.clone(), created.clone());
        writers.push(tokio::spawn(async move {
            let patch_of = if sent.is_multiple_of(2) {
                created.lock().await.last().cloned()
            } else {
                None
            };
            let at = Instant::now();
            match patch_of {
                Some(id) => {
                    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "title", "value": format!("Title {sent}")}]});
                    let ok = scim(&http, reqwest::Method::PATCH, &format!("{base}/scim/v2/Users/{id}"), body)
                        .await
                        .is_some_and(|(status, _)| status == 200);
                    results.patches.record(at, ok).await;
                }
                None => {
                    let email = format!("load.{sent}@load.example");
                    let body = json!({"userName": email, "emails": [{"value": email}], "active": true});
                    let answer = scim(&http, reqwest::Method::POST, &format!("{base}/scim/v2/Users"), body).await;
                    let ok = answer.as_ref().is_some_and(|(status, _)| *status == 201);
                    if let Some((_, body)) = answer.filter(|(status, _)| *status == 201) {
                        if let Some(id) = body["id"].as_str() {
                            created.lock().await.push(id.to_owned());
                        }
                    }
                    results.creates.record(at, ok).await;
                }
            }
        }));
    }
    running.store(false, Ordering::Relaxed);
    for task in tasks.into_iter().chain(writers) {
        task.await?;
    }
    // Rates are over the load's own time; requests still answered after it count, late.
    let elapsed = seconds as f64;
    println!(
        "{READERS} report readers and SCIM at {SCIM_PER_SECOND}/s for {seconds} s \
         (the last answers came {:.1} s after it):",
        load_started.elapsed().as_secs_f64() - elapsed
    );
    for (what, kind) in [
        ("report first page (with total)", &results.first_pages),
        ("report next page", &results.next_pages),
        ("SCIM create", &results.creates),
        ("SCIM PATCH", &results.patches),
    ] {
        let mut latencies = kind.latencies.lock().await.clone();
        println!(
            "  {what}: {:.1} per second, {} errors",
            latencies.len() as f64 / elapsed,
            kind.errors.load(Ordering::Relaxed)
        );
        print_latencies(&format!("    {what}"), &mut latencies, 0.99);
    }
    Ok(())
}

async fn report_page(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    query: &str,
    cursor: Option<&str>,
) -> Option<Value> {
    let mut url = format!("{base}/api/v1/reports/user-provisioning?{query}");
    if let Some(cursor) = cursor {
        url.push_str(&format!("&cursor={cursor}"));
    }
    let answer = http.get(url).header("cookie", cookie).send().await.ok()?;
    if !answer.status().is_success() {
        return None;
    }
    answer.json().await.ok()
}

async fn scim(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Value,
) -> Option<(u16, Value)> {
    let answer = http
        .request(method, url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    let status = answer.status().as_u16();
    Some((status, answer.json().await.unwrap_or(Value::Null)))
}
