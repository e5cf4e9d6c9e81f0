//! `cargo xtask bench logs`: the provisioning log and status at `PROVISIO_BENCH_EVENTS`
//! events (default 1,000,000) spread over 30 days and every demo customer. Measured over real
//! HTTP on loopback against the embedded SQLite: the log's first page with its total (as the
//! MSP admin sees it first, failures only, one customer, a search), next pages deep in the
//! log, the status of every customer, and what the event adds to a SCIM create.

use std::time::Instant;

use chrono::Utc;
use provisio_server::db::provisioning::{self, Event, RequestOrigin};
use provisio_server::{db, demo};
use serde_json::{json, Value};
use support::{print_latencies, serve, sign_in, Failure};

mod support;

const TOKEN: &str = "pvs_benchlogs_provisioning-log-benchmark";
const RUNS: usize = 30;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let events: i64 = std::env::var("PROVISIO_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    // PROVISIO_BENCH_DB keeps the database for a look at its query plans afterwards.
    let file = std::env::var("PROVISIO_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("logs.db"));
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let pool = db::connect(&url).await?;
    let seeded = demo::seed(&pool, 1000).await?;
    let started = Instant::now();
    populate(&pool, events).await?;
    println!(
        "seeded {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    db::provisioning_log::index_new(&pool.clone().into()).await?;
    println!(
        "indexed them for search and counts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The creates measured below come faster than a token's default rate.
    let base = serve(support::unthrottled(pool.clone())).await?;
    let http = reqwest::Client::new();
    let msp = seeded
        .admins
        .iter()
        .find(|a| a.role == provisio_api::auth::Role::MspAdmin)
        .ok_or("the demo MSP admin")?;
    let cookie = sign_in(&http, &base, msp.email, &msp.password).await?;
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers ORDER BY id LIMIT 1")
        .fetch_one(&pool)
        .await?;

    for (what, query) in [
        ("first page, last 7 days (default view)", String::new()),
        ("first page, last 30 days", "range=30d".to_owned()),
        (
            "first page, failures, 30 days",
            "range=30d&status=failure".to_owned(),
        ),
        (
            "first page, one customer, 30 days",
            format!("range=30d&customer={customer}"),
        ),
        (
            "first page, search identity, 7 days",
            "q=user4242".to_owned(),
        ),
    ] {
        let mut latencies = vec![];
        for _ in 0..RUNS {
            let at = Instant::now();
            let page = get(
                &http,
                &base,
                &cookie,
                &format!("/api/v1/provisioning/events?{query}"),
            )
            .await?;
            latencies.push(at.elapsed());
            if page["total"].as_u64().is_none() {
                return Err(format!("no total for {query}: {page}").into());
            }
        }
        print_latencies(what, &mut latencies, 0.95);
    }

    // Next pages: follow the cursor 50 pages deep into the 30-day log, timing each.
    let mut latencies = vec![];
    let mut page = get(
        &http,
        &base,
        &cookie,
        "/api/v1/provisioning/events?range=30d",
    )
    .await?;
    for _ in 0..50 {
        let cursor = page["next_cursor"]
            .as_str()
            .ok_or("a next page")?
            .to_owned();
        let at = Instant::now();
        page = get(
            &http,
            &base,
            &cookie,
            &format!("/api/v1/provisioning/events?range=30d&cursor={cursor}"),
        )
        .await?;
        latencies.push(at.elapsed());
    }
    print_latencies("next page (100 events)", &mut latencies, 0.95);

    let mut latencies = vec![];
    for _ in 0..RUNS {
        let at = Instant::now();
        let status = get(&http, &base, &cookie, "/api/v1/provisioning/status").await?;
        latencies.push(at.elapsed());
        if status.as_array().is_none_or(Vec::is_empty) {
            return Err("no statuses".into());
        }
    }
    print_latencies("status of every customer", &mut latencies, 0.95);

    scim_create_cost(&http, &base, &pool, customer).await
}

/// A SCIM create's latency, and what writing one event costs inside a write transaction.
async fn scim_create_cost(
    http: &reqwest::Client,
    base: &str,
    pool: &sqlx::SqlitePool,
    customer: i64,
) -> Result<(), Failure> {
    let token_id = support::scim_token(pool, customer, TOKEN).await?;
    let mut creates = vec![];
    for n in 0..300 {
        let email = format!("bench.create.{n}@logs.example");
        let at = Instant::now();
        let answer = http
            .post(format!("{base}/scim/v2/Users"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(
                json!({"userName": email, "emails": [{"value": email}], "active": true})
                    .to_string(),
            )
            .send()
            .await?;
        creates.push(at.elapsed());
        if answer.status().as_u16() != 201 {
            return Err(format!("create answered {}", answer.status()).into());
        }
    }
    let origin = RequestOrigin {
        request_id: Some("bench".to_owned()),
        client_address: Some("127.0.0.1".to_owned()),
        started: Some(Instant::now()),
    };
    // The event is written in the create's own transaction, so what it adds is its insert
    // (with the search index and hourly counts it feeds), not a commit: timed over many.
    const INSERTS: u32 = 2000;
    let mut tx = db::write_transaction(pool).await?;
    let at = Instant::now();
    for n in 0..INSERTS {
        let identity = format!("Bench User {n} (bench.user.{n}@logs.example)");
        provisioning::record(
            tx.sqlite()?,
            &Event {
                customer_id: customer,
                token_id,
                action: "create",
                status: provisio_api::provisioning::EventStatus::Success,
                identity: &identity,
                source_id: Some("2f1c9a7e-0000-4000-8000-00000000bench"),
                target_id: None,
                changes: json!({"userName": {"before": null, "after": identity}}),
                error: None,
                error_code: None,
                http_status: None,
                origin: &origin,
            },
        )
        .await?;
    }
    let event = at.elapsed() / INSERTS;
    tx.commit().await?;
    creates.sort();
    let create = creates[creates.len() / 2];
    print_latencies("SCIM create (with its event)", &mut creates, 0.95);
    println!(
        "event insert inside the write transaction: {:.3} ms = {:.1} % of a create's median",
        event.as_secs_f64() * 1000.0,
        event.as_secs_f64() / create.as_secs_f64() * 100.0
    );
    Ok(())
}

/// `count` events over the last 30 days, spread over every customer (each with a token), in
/// the mix the demo has: mostly updates and creates, some disables, 3 % failures.
async fn populate(pool: &sqlx::SqlitePool, count: i64) -> Result<(), Failure> {
    sqlx::query(
        "INSERT INTO scim_tokens (customer_id, name, identity_provider, prefix, token_hash, \
         created_by, created_at, expires_at) \
         SELECT id, 'Production', CASE id % 2 WHEN 0 THEN 'entra_id' ELSE 'okta' END, \
         'pvs_' || id, 'hash-' || id, 'bench', '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z' \
         FROM customers",
    )
    .execute(pool)
    .await?;
    let now = Utc::now().timestamp();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1), \
         c AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, COUNT(*) OVER () AS total FROM customers) \
         INSERT INTO provisioning_events (at, customer_id, token_id, action, kind, outcome, \
           identity, source_id, target_id, changes, error, error_code, http_status, request_id, \
           duration_ms, client_address) \
         SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?2 - (?1 - i) * (30 * 86400) / ?1, 'unixepoch'), \
           c.id, t.id, \
           CASE i % 10 WHEN 0 THEN 'create' WHEN 1 THEN 'preserve' ELSE 'update' END, \
           CASE i % 10 WHEN 0 THEN 'create' WHEN 1 THEN 'disable' ELSE 'update' END, \
           CASE WHEN i % 33 = 0 THEN 'failure' ELSE 'success' END, \
           'user' || i || '@customer' || c.id || '.example', 'ext-' || i, printf('%032x', i), \
           '{\"title\":{\"before\":\"Analyst\",\"after\":\"Manager\"}}', \
           CASE WHEN i % 33 = 0 THEN 'A user with this userName already exists.' END, \
           CASE WHEN i % 33 = 0 THEN 'uniqueness' END, CASE WHEN i % 33 = 0 THEN 409 END, \
           printf('%08x-bench', i), 5 + i % 40, '20.36.104.12' \
         FROM n JOIN c ON c.k = i % c.total JOIN scim_tokens t ON t.customer_id = c.id",
    )
    .bind(count)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

async fn get(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
) -> Result<Value, Failure> {
    let answer = http
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    if !status.is_success() {
        return Err(format!("{path} answered {status}: {body}").into());
    }
    Ok(body)
}
