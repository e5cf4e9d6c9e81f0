//! What the HTTP benchmarks share: the server on a loopback port, signing in, and latency
//! summaries.
#![allow(dead_code)] // Each benchmark uses a different part.

use std::net::SocketAddr;
use std::time::Duration;

use provisio_server::{app, AppOptions, AppState};
use serde_json::json;

pub type Failure = Box<dyn std::error::Error>;

/// Serves `state` on a loopback port in this process; answers the base URL.
pub async fn serve(state: AppState) -> Result<String, Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = app(state, &AppOptions::default());
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    Ok(base)
}

/// Signs in; answers the session's `Cookie` header value.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> Result<String, Failure> {
    let answer = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    let cookie = answer
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("a session cookie")?;
    Ok(cookie.to_owned())
}

/// Prints the count, median, the `tail` quantile (0.95, 0.99) and the maximum.
pub fn print_latencies(what: &str, latencies: &mut [Duration], tail: f64) {
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    println!(
        "{what}: {} requests; p50 {:.1} ms, p{} {:.1} ms, max {:.1} ms",
        latencies.len(),
        at(0.50).as_secs_f64() * 1000.0,
        (tail * 100.0).round(),
        at(tail).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0,
    );
}

/// Gives `customer` a SCIM token whose secret is `token`; answers its id.
pub async fn scim_token(
    pool: &sqlx::SqlitePool,
    customer: i64,
    token: &str,
) -> Result<i64, Failure> {
    use provisio_server::db::scim_tokens::{self, NewToken};
    let stored = scim_tokens::insert(
        &pool.into(),
        &NewToken {
            customer_id: customer,
            name: "benchmark",
            identity_provider: provisio_api::scim::IdentityProvider::EntraId,
            prefix: &token[..token.len().min(12)],
            token_hash: &provisio_server::auth::hash_token(token),
            created_by: "benchmark",
            expires_at: chrono::Utc::now() + chrono::Duration::days(1),
        },
        2,
    )
    .await?
    .ok_or("the benchmark customer already has two tokens")?;
    Ok(stored.id)
}

/// The server's state with no SCIM rate limit: the benchmarks set the pace themselves.
pub fn unthrottled(pool: sqlx::SqlitePool) -> AppState {
    AppState {
        scim_rate: std::sync::Arc::new(provisio_server::auth::scim_rate::ScimRateLimit::new(
            std::num::NonZeroU32::MAX,
        )),
        ..AppState::new(pool)
    }
}
