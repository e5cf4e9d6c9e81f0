//! The audit log: who did what, when, from where.

use chrono::{DateTime, Utc};
use provisio_api::auth::AuditEntry;

use super::time::StoredTime;
use super::{on_backend, Pool};

/// Who acted: an admin (id and email) or only the email someone tried.
pub struct Actor<'a> {
    pub admin_id: Option<i64>,
    pub email: Option<&'a str>,
}

pub async fn record(
    pool: &Pool,
    actor: Actor<'_>,
    action: &str,
    detail: &str,
    client_address: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query(
        "INSERT INTO audit_log (at, actor_admin_id, actor_email, action, detail, client_address) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(StoredTime::now())
    .bind(actor.admin_id)
    .bind(actor.email)
    .bind(action)
    .bind(detail)
    .bind(client_address)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

/// The newest entries first.
pub async fn recent(pool: &Pool, limit: u32) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows: Vec<AuditRow> = on_backend!(pool, |connection| sqlx::query_as(
        "SELECT id, at, actor_email, action, detail, client_address FROM audit_log \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(connection)
    .await?);
    Ok(rows
        .into_iter()
        .map(|row| AuditEntry {
            id: row.id,
            at: row.at,
            actor: row.actor_email,
            action: row.action,
            detail: row.detail,
            client_address: row.client_address,
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    #[sqlx(try_from = "StoredTime")]
    at: DateTime<Utc>,
    actor_email: Option<String>,
    action: String,
    detail: String,
    client_address: Option<String>,
}
