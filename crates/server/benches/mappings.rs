//! `cargo xtask bench mappings`: the mapping editor at one customer's scale. One customer with
//! `PROVISIO_BENCH_MAPPING_USERS` SCIM users (default 100,000) in ten groups, with directory
//! attributes, and 20 mappings (group, attribute and all-users ones). Measured over real HTTP
//! on loopback against the embedded SQLite: the editor's preview of the whole list, a full
//! re-evaluation after a reorder, and SCIM creates sent while that re-evaluation runs.

use std::time::{Duration, Instant};

use provisio_api::mapping::{AttributeOperator, Matcher, SaveMappingRequest};
use provisio_server::{db, demo};
use serde_json::{json, Value};
use support::{print_latencies, serve, sign_in, Failure};

mod support;

const TOKEN: &str = "pvs_benchmap_mapping-benchmark-token";
const DEPARTMENTS: [&str; 10] = [
    "Finance",
    "Sales",
    "Engineering",
    "HR",
    "Legal",
    "Operations",
    "Marketing",
    "Support",
    "Research",
    "Facilities",
];

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let users: i64 = std::env::var("PROVISIO_BENCH_MAPPING_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("mappings.db").display()
    );
    let pool = db::connect(&url).await?;
    let seeded = demo::seed(&pool, 0).await?;
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers ORDER BY id LIMIT 1")
        .fetch_one(&pool)
        .await?;
    let started = Instant::now();
    let (profiles, regions) = populate(&pool, customer, users).await?;
    let groups = groups(&pool, customer).await?;
    for (at, mapping) in twenty_mappings(&groups, &profiles, &regions)
        .iter()
        .enumerate()
    {
        let mut tx = pool.begin().await?;
        db::mappings::insert(&mut *tx, customer, mapping).await?;
        tx.commit().await?;
        let _ = at;
    }
    let mut tx = pool.begin().await?;
    let job = db::mappings::start_job(&mut *tx, customer).await?;
    tx.commit().await?;
    provisio_server::reevaluation::run(&pool.clone().into(), job).await?;
    println!(
        "{users} SCIM users of one customer in 10 groups, 20 mappings; placed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // As the server does: without it, the commit that crosses the WAL's size bound checkpoints
    // 200 MiB inline and holds the writers for a third of a second.
    db::spawn_checkpointer(pool.clone(), Duration::from_secs(1));
    support::scim_token(&pool, customer, TOKEN).await?;
    let state = support::unthrottled(pool.clone());
    let base = serve(state).await?;
    let http = reqwest::Client::new();
    let msp = seeded.admins.first().ok_or("a demo MSP admin")?;
    let cookie = sign_in(&http, &base, msp.email, &msp.password).await?;
    let mappings = format!("{base}/api/v1/customers/{customer}/mappings");
    let listed: Value = http
        .get(&mappings)
        .header("cookie", &cookie)
        .send()
        .await?
        .json()
        .await?;
    let listed = listed.as_array().ok_or("mappings")?.clone();

    // The preview of the whole list, as the editor asks for it while the admin types.
    let proposed: Vec<Value> = listed
        .iter()
        .map(|m| {
            json!({"id": m["id"], "mapping": {"name": m["name"], "matcher": m["matcher"],
                "profile_id": m["profile_id"], "storage_region_id": m["storage_region_id"],
                "quota_gb": m["quota_gb"], "enabled": m["enabled"]}})
        })
        .rev()
        .collect();
    let preview = || async {
        let sent = Instant::now();
        let answer = http
            .post(format!("{mappings}/preview"))
            .header("cookie", &cookie)
            .json(&json!({"mappings": proposed}))
            .send()
            .await?;
        if !answer.status().is_success() {
            return Err(Failure::from(format!("preview: {}", answer.text().await?)));
        }
        let _: Value = answer.json().await?;
        Ok(sent.elapsed())
    };
    // The form opens (and asks its first preview) after the admin has seen the list and
    // clicked: the list has warmed the customer's decoded users by then.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut previews = Vec::new();
    for _ in 0..20 {
        previews.push(preview().await?);
    }
    print_latencies(
        "preview of 20 mappings (reversed order) while editing",
        &mut previews,
        0.99,
    );
    // A change from the identity provider makes the next preview decode the users again.
    let mut after_change = Vec::new();
    for i in 0..5 {
        let user_name = format!("edit{i}@bench.example");
        let created = http
            .post(format!("{base}/scim/v2/Users"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(json!({"userName": user_name, "emails": [{"value": user_name}]}).to_string())
            .send()
            .await?;
        if !created.status().is_success() {
            return Err(format!("SCIM create: {}", created.text().await?).into());
        }
        after_change.push(preview().await?);
    }
    print_latencies(
        "preview right after a SCIM change (the users it stamped read again)",
        &mut after_change,
        0.99,
    );

    // A reorder's full re-evaluation, with an identity provider creating users meanwhile.
    let ids: Vec<Value> = listed.iter().rev().map(|m| m["id"].clone()).collect();
    let sent = Instant::now();
    let change: Value = http
        .put(format!("{mappings}/order"))
        .header("cookie", &cookie)
        .json(&json!({"ids": ids}))
        .send()
        .await?
        .json()
        .await?;
    let job = change["job"]["id"].as_i64().ok_or("a job")?;
    let creates = tokio::spawn(scim_creates_until_done(
        http.clone(),
        base.clone(),
        pool.clone(),
        job,
    ));
    let progress = loop {
        let progress: Value = http
            .get(format!("{mappings}/jobs/{job}"))
            .header("cookie", &cookie)
            .send()
            .await?
            .json()
            .await?;
        if progress["state"] != "running" {
            break progress;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "re-evaluation after a reorder: {} users ({} moved) in {:.2} s",
        progress["done"],
        progress["changed"],
        sent.elapsed().as_secs_f64()
    );
    let mut latencies = creates.await?.map_err(|e| e.to_string())?;
    print_latencies("SCIM create during the re-evaluation", &mut latencies, 0.99);
    Ok(())
}

/// SCIM creates one after another, 20 a second, until the job ends; their latencies.
async fn scim_creates_until_done(
    http: reqwest::Client,
    base: String,
    pool: sqlx::SqlitePool,
    job: i64,
) -> Result<Vec<Duration>, String> {
    let mut latencies = Vec::new();
    for i in 0.. {
        let state: String = sqlx::query_scalar("SELECT state FROM mapping_jobs WHERE id = ?")
            .bind(job)
            .fetch_one(&pool)
            .await
            .map_err(|e| e.to_string())?;
        if state != "running" && i > 0 {
            break;
        }
        let user_name = format!("during{i}@bench.example");
        let sent = Instant::now();
        let answer = http
            .post(format!("{base}/scim/v2/Users"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(
                json!({"userName": user_name, "emails": [{"value": user_name}], "active": true,
                       "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                           {"department": DEPARTMENTS[i % DEPARTMENTS.len()]}})
                .to_string(),
            )
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(answer.text().await.unwrap_or_default());
        }
        latencies.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(latencies)
}

/// The customer's SCIM users: `count` of them, each with a department, a country and one of
/// ten groups (by department). Returns the customer's profile and region ids.
async fn populate(
    pool: &sqlx::SqlitePool,
    customer: i64,
    count: i64,
) -> Result<(Vec<i64>, Vec<i64>), Failure> {
    let profiles: Vec<i64> = sqlx::query_scalar("SELECT id FROM profiles WHERE customer_id = ?")
        .bind(customer)
        .fetch_all(pool)
        .await?;
    let regions: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM storage_regions WHERE customer_id = ?")
            .bind(customer)
            .fetch_all(pool)
            .await?;
    let departments = serde_json::to_string(&DEPARTMENTS)?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
         INSERT INTO users (customer_id, user_name, email, profile_id, storage_region_id, status, \
           license, created_at, managed_by, scim_id, scim_user_name, scim_attributes, updated_at) \
         SELECT ?, 'Bench User ' || i, 'user' || i || '@bench.example', ?, ?, 'Active', \
           'active', '2026-01-01T00:00:00Z', 'Microsoft Entra ID', \
           printf('00000000-0000-4000-8000-%012d', i), 'user' || i || '@bench.example', \
           json_object('department', json_extract(?, '$[' || (i % 10) || ']'), \
                       'country', CASE i % 3 WHEN 0 THEN 'DE' WHEN 1 THEN 'US' ELSE 'GB' END), \
           '2026-01-01T00:00:00Z' FROM n",
    )
    .bind(count)
    .bind(customer)
    .bind(profiles[0])
    .bind(regions[0])
    .bind(departments)
    .execute(pool)
    .await?;
    Ok((profiles, regions))
}

/// Ten groups, one per department, with its users as members; their SCIM ids.
async fn groups(pool: &sqlx::SqlitePool, customer: i64) -> Result<Vec<String>, Failure> {
    let mut ids = Vec::new();
    for (at, department) in DEPARTMENTS.iter().enumerate() {
        let scim_id = format!("00000000-0000-4000-9000-{at:012}");
        let group_id: i64 = sqlx::query_scalar(
            "INSERT INTO scim_groups (customer_id, scim_id, display_name, created_at, updated_at) \
             VALUES (?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z') RETURNING id",
        )
        .bind(customer)
        .bind(&scim_id)
        .bind(format!("{department} team"))
        .fetch_one(pool)
        .await?;
        sqlx::query(
            "INSERT INTO scim_group_members (group_id, user_id) SELECT ?, id FROM users \
             WHERE customer_id = ? AND json_extract(scim_attributes, '$.department') = ?",
        )
        .bind(group_id)
        .bind(customer)
        .bind(department)
        .execute(pool)
        .await?;
        ids.push(scim_id);
    }
    Ok(ids)
}

/// Eight group mappings, eleven attribute mappings (some matching nobody) and all users last.
fn twenty_mappings(
    groups: &[String],
    profiles: &[i64],
    regions: &[i64],
) -> Vec<SaveMappingRequest> {
    let pick = |ids: &[i64], at: usize| ids[at % ids.len()];
    let mut mappings = Vec::new();
    for at in 0..20 {
        let matcher = match at {
            0..=7 => Matcher::Groups {
                groups: vec![groups[at].clone(), groups[(at + 3) % groups.len()].clone()],
            },
            8..=13 => Matcher::Attribute {
                attribute: "country".to_owned(),
                operator: AttributeOperator::AnyOf,
                values: vec![["DE", "US", "GB"][at % 3].to_owned(), "FR".to_owned()],
            },
            14..=18 => Matcher::Attribute {
                attribute: "title".to_owned(),
                operator: AttributeOperator::StartsWith,
                values: vec![format!("Nobody {at}")],
            },
            _ => Matcher::All,
        };
        mappings.push(SaveMappingRequest {
            name: format!("Mapping {at}"),
            matcher,
            profile_id: pick(profiles, at),
            storage_region_id: pick(regions, at),
            quota_gb: Some(10 + u32::try_from(at).unwrap_or(0)),
            enabled: true,
        });
    }
    mappings
}
