//! Crash safety through the real binary: SCIM creates run against `provisio-server` as a child
//! process, which is killed with SIGKILL mid-load and started again on the same database file.
//! Every create that was answered 201 is there with its provisioning event, nothing is
//! half-written, and the database passes `PRAGMA integrity_check`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use provisio_api::scim::IdentityProvider;
use provisio_server::auth::hash_token;
use provisio_server::db::scim_tokens::{self, NewToken};
use provisio_server::{db, demo};
use serde_json::json;
use tokio::sync::Mutex;

const TOKEN: &str = "pvs_crash_0123456789abcdef0123456789";

/// Starts the server on `url`; answers the child and its base URL.
fn start(url: &str, outbox: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_provisio-server"))
        .args(["--database", url, "--no-demo", "--listen", "127.0.0.1:0"])
        .args(["--scim-rate-limit", "100000", "--outbox-dir"])
        .arg(outbox)
        .env("PROVISIO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the server prints its address")
            .expect("a line");
        if let Some(address) = line.strip_prefix("Provisio is listening on ") {
            break address.to_owned();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_create() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("crash.db").display()
    );
    let pool = db::connect(&url).await.expect("database opens");
    demo::seed(&pool, 10).await.expect("demo data");
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers ORDER BY id LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("a customer");
    scim_tokens::insert(
        &pool.clone().into(),
        &NewToken {
            customer_id: customer,
            name: "Crash test",
            identity_provider: IdentityProvider::EntraId,
            prefix: "pvs_crash",
            token_hash: &hash_token(TOKEN),
            created_by: "test",
            expires_at: chrono::Utc::now() + chrono::Duration::days(1),
        },
        2,
    )
    .await
    .expect("token stored")
    .expect("room for a token");
    pool.close().await;

    let outbox = dir.path().join("outbox");
    let (mut server, base) = start(&url, &outbox);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let http = reqwest::Client::new();
    let mut clients = vec![];
    for client in 0..8 {
        let (http, base, acknowledged) = (http.clone(), base.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                let email = format!("crash.{client}.{n}@crash.example");
                let answer = http
                    .post(format!("{base}/scim/v2/Users"))
                    .bearer_auth(TOKEN)
                    .header("content-type", "application/scim+json")
                    .body(
                        json!({"userName": email, "emails": [{"value": email}], "active": true,
                               "title": "Crash Tester"})
                        .to_string(),
                    )
                    .send()
                    .await;
                match answer {
                    Ok(answer) if answer.status().as_u16() == 201 => {
                        acknowledged.lock().await.push(email);
                    }
                    Ok(answer) => panic!("create answered {}", answer.status()),
                    // The server is gone: stop sending.
                    Err(_) => return,
                }
            }
        }));
    }
    // Let the load run, then kill the server without warning.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acknowledged.lock().await.len() >= 300 {
            break;
        }
    }
    server.kill().expect("SIGKILL");
    server.wait().expect("the server is gone");
    for client in clients {
        client.await.expect("a client ends");
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(acknowledged.len() >= 300);

    // Started again on the same file, it serves every acknowledged user.
    let (mut server, base) = start(&url, &outbox);
    let pool = db::connect(&url).await.expect("database opens");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    for email in &acknowledged {
        let (user_id, title): (i64, Option<String>) = sqlx::query_as(
            "SELECT id, json_extract(scim_attributes, '$.title') FROM users WHERE email = ?",
        )
        .bind(email)
        .fetch_optional(&pool)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("{email} was answered 201 and is gone"));
        assert_eq!(title.as_deref(), Some("Crash Tester"), "{email} whole");
        let events: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM provisioning_events WHERE user_id = ? AND action = 'create' \
             AND outcome = 'success'",
        )
        .bind(user_id)
        .fetch_one(&pool)
        .await
        .expect("events");
        assert_eq!(events, 1, "{email} has its provisioning event");
    }
    // Nothing half-written: every created user has its event, acknowledged or not.
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users u WHERE u.email LIKE 'crash.%' AND NOT EXISTS \
         (SELECT 1 FROM provisioning_events e WHERE e.user_id = u.id AND e.action = 'create')",
    )
    .fetch_one(&pool)
    .await
    .expect("orphans");
    assert_eq!(orphans, 0);
    let answer = http
        .get(format!(
            "{base}/scim/v2/Users?filter=userName eq \"{}\"",
            acknowledged[0]
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the restarted server answers");
    let body: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(body["totalResults"], 1);
    server.kill().expect("stop");
    let _ = server.wait();
}
