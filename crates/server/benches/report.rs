//! `cargo xtask bench report`: the report's first and next pages for every sort and every kind
//! of filter, facets and downloads, and how the first page's cost grows with the user count.
//!
//! Seeds `PROVISIO_BENCH_USERS` demo users (default 1,000,000) into a temporary SQLite file and
//! drives the real router in-process, so the figures are handler plus SQL, without the network.
//! `PROVISIO_BENCH_ONLY=downloads` times only the two downloads; any other text, only the queries
//! that contain it (e.g. `PROVISIO_BENCH_ONLY=is_empty`).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use provisio_api::auth::Role;
use provisio_server::{app, db, demo, AppOptions, AppState};
use serde_json::Value;
use tower::ServiceExt;

/// The report's 16 sortable fields, each sorted both ways.
const SORTS: [&str; 16] = [
    "global_customer_id",
    "customer_name",
    "account_name",
    "user_name",
    "user_email",
    "profile",
    "user_status",
    "endpoints_license",
    "endpoints_usage_mb",
    "created_on",
    "managed_by",
    "custom_attribute_name",
    "custom_attribute_value",
    "storage_region",
    "quota_gb",
    "mapping",
];

/// One filter of each operator of each field type, then combinations. `{customer}` stands for
/// a customer's name, found in the data.
const FILTERS: [&str; 22] = [
    "filter=user_email.contains%3Asmith",
    "filter=customer_name.contains%3Aind",
    "filter=customer_name.equals%3A{customer}",
    "filter=user_name.equals%3AMaria+Garcia",
    "filter=user_name.starts_with%3AMar",
    "filter=custom_attribute_value.is_empty%3A",
    "filter=customer_name.any_of%3A{customer}",
    "filter=profile.any_of%3ADefault",
    "filter=user_status.any_of%3APending",
    "filter=user_status.any_of%3AActive",
    "filter=managed_by.any_of%3AOkta",
    "filter=endpoints_usage_mb.eq%3A0",
    "filter=endpoints_usage_mb.lt%3A1000",
    "filter=endpoints_usage_mb.gt%3A400000",
    "filter=endpoints_usage_mb.between%3A1000%2C2000",
    "filter=created_on.before%3A2024-01-01",
    "filter=created_on.after%3A2026-10-01",
    "filter=created_on.between%3A2025-01-01%2C2025-01-31",
    "filter=created_on.in_last_days%3A90",
    "plan=Enterprise",
    "filter=user_status.any_of%3AActive&filter=endpoints_usage_mb.gt%3A1000",
    "filter=user_status.any_of%3AActive&filter=profile.any_of%3ADefault&filter=user_name.starts_with%3AMa",
];

const RUNS: usize = 21;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: u64 = std::env::var("PROVISIO_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `PROVISIO_BENCH_ONLY` seeds once and times only the downloads, or the matching queries.
    if let Ok(only) = std::env::var("PROVISIO_BENCH_ONLY") {
        let large = Bench::seeded(users).await?;
        if only == "downloads" {
            for format in ["csv", "json"] {
                large.export(format, users).await?;
            }
        } else {
            let customer = large.first_customer().await?;
            let queries = every_query(&customer);
            large
                .print_pages(users, queries.iter().filter(|q| q.contains(&only)))
                .await?;
        }
        return Ok(());
    }
    // How the first page's cost grows with the user count: the same queries over a tenth.
    let small = Bench::seeded(users / 10).await?;
    let large = Bench::seeded(users).await?;
    let customer = large.first_customer().await?;
    let representative = [
        "",
        "sort=-created_on",
        "filter=user_status.any_of%3AActive&sort=user_email",
        "filter=user_email.contains%3Asmith",
    ];
    println!(
        "\n| query | {} users, first page p50 | {} users, first page p50 |",
        users / 10,
        users
    );
    println!("|---|---|---|");
    for query in representative {
        let (small_time, _) = small.first_page(query).await?;
        let (large_time, _) = large.first_page(query).await?;
        println!(
            "| `{}` | {:.1} ms | {:.1} ms |",
            shown(query),
            ms(small_time.p50),
            ms(large_time.p50)
        );
    }
    drop(small);

    large
        .print_pages(users, every_query(&customer).iter())
        .await?;
    let facets = large.timed(&format!("{BASE}/facets")).await?;
    println!(
        "\nfacets over {users} users: p50 {:.1} ms, p95 {:.1} ms",
        ms(facets.p50),
        ms(facets.p95)
    );
    for format in ["csv", "json"] {
        large.export(format, users).await?;
    }
    Ok(())
}

const BASE: &str = "/api/v1/reports/user-provisioning";

/// The default view, every sort both ways, and every filter in the default order and newest
/// first.
fn every_query(customer: &str) -> Vec<String> {
    let mut queries = vec![String::new()];
    for sort in SORTS {
        queries.push(format!("sort={sort}"));
        queries.push(format!("sort=-{sort}"));
    }
    for filter in FILTERS {
        let filter = filter.replace("{customer}", customer);
        queries.push(filter.clone());
        queries.push(format!("{filter}&sort=-created_on"));
    }
    queries
}

fn shown(query: &str) -> String {
    if query.is_empty() {
        "(default view)".to_owned()
    } else {
        query.replace("%3A", ":").replace("%2C", ",")
    }
}

struct Timing {
    p50: Duration,
    p95: Duration,
}

struct Bench {
    router: axum::Router,
    cookie: String,
    pool: sqlx::SqlitePool,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// One table row per query: its total, and first and next pages' p50 and p95.
    async fn print_pages(
        &self,
        users: u64,
        queries: impl Iterator<Item = &String>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        println!("\n| query ({users} users) | rows | first page p50 | p95 | next page p50 | p95 |");
        println!("|---|---|---|---|---|---|");
        for query in queries {
            let (first, page) = self.first_page(query).await?;
            let total = page["total"].as_u64().unwrap_or(0);
            let next = match page["next_cursor"].as_str() {
                Some(cursor) => Some(self.next_page(query, cursor).await?),
                None => None,
            };
            println!(
                "| `{}` | {total} | {:.1} ms | {:.1} ms | {} |",
                shown(query),
                ms(first.p50),
                ms(first.p95),
                next.map(|t| format!("{:.2} ms | {:.2} ms", ms(t.p50), ms(t.p95)))
                    .unwrap_or_else(|| "– | –".to_owned())
            );
        }
        Ok(())
    }

    /// Seeds `users` demo users with their SCIM side and mappings, as `--demo-users` does, and
    /// signs in as the MSP admin.
    async fn seeded(users: u64) -> Result<Bench, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        let pool = db::connect(&url).await?;
        let started = Instant::now();
        let seeded = demo::seed(&pool, users).await?;
        let users_loaded = started.elapsed();
        demo::seed_provisioning(&pool).await?;
        println!(
            "seed {users} users: {:.1} s (users {:.1} s, then SCIM resources, groups and mappings)",
            started.elapsed().as_secs_f64(),
            users_loaded.as_secs_f64()
        );
        // A serving Provisio checkpoints the WAL every second; seeding left it at its bound.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
        let router = app(AppState::new(pool.clone()), &AppOptions::default());
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
        Ok(Bench {
            router,
            cookie,
            pool,
            _dir: dir,
        })
    }

    async fn first_customer(&self) -> Result<String, Box<dyn std::error::Error>> {
        let name: String = sqlx::query_scalar("SELECT name FROM customers ORDER BY id LIMIT 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(name.replace(' ', "+"))
    }

    async fn get(&self, uri: &str) -> Result<(Value, Duration), Box<dyn std::error::Error>> {
        let request = Request::get(uri)
            .header(header::COOKIE, self.cookie.clone())
            .body(Body::empty())?;
        let started = Instant::now();
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let elapsed = started.elapsed();
        if !status.is_success() {
            return Err(format!("{uri}: {status} {}", String::from_utf8_lossy(&bytes)).into());
        }
        Ok((serde_json::from_slice(&bytes)?, elapsed))
    }

    async fn timed(&self, uri: &str) -> Result<Timing, Box<dyn std::error::Error>> {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            times.push(self.get(uri).await?.1);
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        Ok(Timing {
            p50: at(0.5),
            p95: at(0.95),
        })
    }

    /// The first page (with its total), timed over the runs; answers the page too.
    async fn first_page(&self, query: &str) -> Result<(Timing, Value), Box<dyn std::error::Error>> {
        let uri = format!("{BASE}?limit=100&{query}");
        let (page, _) = self.get(&uri).await?;
        Ok((self.timed(&uri).await?, page))
    }

    async fn next_page(
        &self,
        query: &str,
        cursor: &str,
    ) -> Result<Timing, Box<dyn std::error::Error>> {
        self.timed(&format!("{BASE}?limit=100&{query}&cursor={cursor}"))
            .await
    }

    /// Exports stream: read the body chunk by chunk, as a client would, and watch the
    /// process's own (anonymous) resident memory while it flows.
    async fn export(&self, format: &str, users: u64) -> Result<(), Box<dyn std::error::Error>> {
        let request = Request::get(format!("{BASE}/export?format={format}"))
            .header(header::COOKIE, self.cookie.clone())
            .body(Body::empty())?;
        let baseline = resident_kib();
        let mut peak = baseline;
        let started = Instant::now();
        let mut body = self.router.clone().oneshot(request).await?.into_body();
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
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "export {format} of {users} rows: {seconds:.1} s ({:.0} rows/s), {:.0} MB, anonymous resident memory {} MiB before, peak +{} MiB while streaming",
            users as f64 / seconds,
            bytes as f64 / 1e6,
            baseline / 1024,
            peak.saturating_sub(baseline) / 1024
        );
        Ok(())
    }
}

/// The process's anonymous resident memory in KiB (Linux), or 0 where it cannot be read: what
/// it allocates itself. Pages of the database file that SQLite maps (`mmap_size`) count in
/// the resident set too, but they are the OS's page cache, shared and reclaimable.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("RssAnon:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
