//! Admin accounts and their sessions.

use chrono::{DateTime, Utc};
use provisio_api::auth::{AdminAccount, CustomerRef, Role};
use sqlx::{SqliteExecutor, SqlitePool};

/// An admin row with what authentication needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminRecord {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub customer_id: Option<i64>,
    pub disabled: bool,
}

impl AdminRecord {
    pub fn role(&self) -> Role {
        // The table's CHECK constraint admits only the three keys.
        Role::from_key(&self.role).unwrap_or(Role::ReadOnly)
    }
}

pub struct NewAdmin<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub customer_id: Option<i64>,
}

pub async fn insert(pool: &SqlitePool, admin: &NewAdmin<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO admins (email, display_name, password_hash, role, customer_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(admin.email)
    .bind(admin.display_name)
    .bind(admin.password_hash)
    .bind(admin.role.key())
    .bind(admin.customer_id)
    .bind(now_text())
    .fetch_one(pool)
    .await
}

pub async fn find_by_email(
    pool: &SqlitePool,
    email: &str,
) -> Result<Option<AdminRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, display_name, password_hash, role, customer_id, disabled \
         FROM admins WHERE email = ? COLLATE NOCASE",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
}

pub async fn find<'c>(
    executor: impl SqliteExecutor<'c>,
    id: i64,
) -> Result<Option<AdminRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, display_name, password_hash, role, customer_id, disabled \
         FROM admins WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(executor)
    .await
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<AdminAccount>, sqlx::Error> {
    let rows: Vec<AccountRow> = sqlx::query_as(
        "SELECT a.id, a.email, a.display_name, a.role, a.disabled, a.created_at, \
                c.id AS customer_id, c.global_id AS customer_global_id, c.name AS customer_name \
         FROM admins a LEFT JOIN customers c ON c.id = a.customer_id ORDER BY a.email",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(AdminAccount::from).collect())
}

pub async fn account(pool: &SqlitePool, id: i64) -> Result<Option<AdminAccount>, sqlx::Error> {
    let row: Option<AccountRow> = sqlx::query_as(
        "SELECT a.id, a.email, a.display_name, a.role, a.disabled, a.created_at, \
                c.id AS customer_id, c.global_id AS customer_global_id, c.name AS customer_name \
         FROM admins a LEFT JOIN customers c ON c.id = a.customer_id WHERE a.id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(AdminAccount::from))
}

/// What an admin becomes.
pub struct AdminUpdate<'a> {
    pub role: Role,
    pub customer_id: Option<i64>,
    pub disabled: bool,
    pub display_name: &'a str,
}

/// Applies `update` unless it would leave no active MSP admin: the check is part of the
/// statement, so two admins demoting each other at once cannot both succeed. False when the
/// change was refused for that reason.
pub async fn update<'c>(
    executor: impl SqliteExecutor<'c>,
    id: i64,
    update: &AdminUpdate<'_>,
) -> Result<bool, sqlx::Error> {
    let stays_msp_admin = update.role == Role::MspAdmin && !update.disabled;
    let done = sqlx::query(
        "UPDATE admins SET role = ?, customer_id = ?, disabled = ?, display_name = ? \
         WHERE id = ? AND (? OR EXISTS (SELECT 1 FROM admins \
           WHERE role = 'msp_admin' AND disabled = 0 AND id != ?))",
    )
    .bind(update.role.key())
    .bind(update.customer_id)
    .bind(update.disabled)
    .bind(update.display_name)
    .bind(id)
    .bind(stays_msp_admin)
    .bind(id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_password_hash(pool: &SqlitePool, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE admins SET password_hash = ? WHERE id = ?")
        .bind(hash)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// A session joined with its admin.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub admin_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub customer_id: Option<i64>,
    pub disabled: bool,
}

pub async fn insert_session(
    pool: &SqlitePool,
    token_hash: &str,
    admin_id: i64,
    client_address: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = now_text();
    sqlx::query(
        "INSERT INTO sessions (token_hash, admin_id, created_at, last_seen_at, client_address) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(admin_id)
    .bind(&now)
    .bind(&now)
    .bind(client_address)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find_session(
    pool: &SqlitePool,
    token_hash: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.admin_id, s.created_at, s.last_seen_at, a.email, a.display_name, a.role, \
                a.customer_id, a.disabled \
         FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

pub async fn touch_session(pool: &SqlitePool, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
        .bind(now_text())
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_session(pool: &SqlitePool, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_sessions_of<'c>(
    executor: impl SqliteExecutor<'c>,
    admin_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE admin_id = ?")
        .bind(admin_id)
        .execute(executor)
        .await?;
    Ok(())
}

pub fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    customer_id: Option<i64>,
    customer_global_id: Option<String>,
    customer_name: Option<String>,
}

impl From<AccountRow> for AdminAccount {
    fn from(row: AccountRow) -> Self {
        let customer = match (row.customer_id, row.customer_global_id, row.customer_name) {
            (Some(id), Some(global_id), Some(name)) => Some(CustomerRef {
                id,
                global_id,
                name,
            }),
            _ => None,
        };
        AdminAccount {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: Role::from_key(&row.role).unwrap_or(Role::ReadOnly),
            customer,
            disabled: row.disabled,
            created_at: row.created_at,
        }
    }
}
