//! The audit log: who did what, when, from where.

use chrono::{DateTime, Utc};
use provisio_api::auth::AuditEntry;
use sqlx::SqlitePool;

/// Who acted: an admin (id and email) or only the email someone tried.
pub struct Actor<'a> {
    pub admin_id: Option<i64>,
    pub email: Option<&'a str>,
}

pub async fn record(
    pool: &SqlitePool,
    actor: Actor<'_>,
    action: &str,
    detail: &str,
    client_address: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_admin_id, actor_email, action, detail, client_address) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(super::admins::now_text())
    .bind(actor.admin_id)
    .bind(actor.email)
    .bind(action)
    .bind(detail)
    .bind(client_address)
    .execute(pool)
    .await?;
    Ok(())
}

/// The newest entries first.
pub async fn recent(pool: &SqlitePool, limit: u32) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, at, actor_email, action, detail, client_address FROM audit_log \
         ORDER BY id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
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
    at: DateTime<Utc>,
    actor_email: Option<String>,
    action: String,
    detail: String,
    client_address: Option<String>,
}
