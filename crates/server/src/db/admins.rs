//! Admin accounts and their sessions.

use chrono::{DateTime, Utc};
use provisio_api::auth::{AdminAccount, CustomerRef, Role};

use super::time::StoredTime;
use super::{on_backend, Dialect, Executor, Pool};

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

pub async fn insert(pool: &Pool, admin: &NewAdmin<'_>) -> Result<i64, sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query_scalar(
        "INSERT INTO admins (email, display_name, password_hash, role, customer_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(admin.email)
    .bind(admin.display_name)
    .bind(admin.password_hash)
    .bind(admin.role.key())
    .bind(admin.customer_id)
    .bind(StoredTime::now())
    .fetch_one(connection)
    .await)
}

pub async fn find_by_email(pool: &Pool, email: &str) -> Result<Option<AdminRecord>, sqlx::Error> {
    let nocase = |expression| pool.dialect().nocase(expression);
    let sql = format!(
        "SELECT id, email, display_name, password_hash, role, customer_id, disabled \
         FROM admins WHERE {} = {}",
        nocase("email"),
        nocase("$1")
    );
    on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(connection)
        .await)
}

pub async fn find<'a>(
    executor: impl Into<Executor<'a>>,
    id: i64,
) -> Result<Option<AdminRecord>, sqlx::Error> {
    on_backend!(executor, |connection| sqlx::query_as(
        "SELECT id, email, display_name, password_hash, role, customer_id, disabled \
         FROM admins WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await)
}

const ACCOUNT_SELECT: &str = "SELECT a.id, a.email, a.display_name, a.role, a.disabled, \
        a.created_at, c.id AS customer_id, c.global_id AS customer_global_id, \
        c.name AS customer_name \
    FROM admins a LEFT JOIN customers c ON c.id = a.customer_id";

pub async fn list(pool: &Pool) -> Result<Vec<AdminAccount>, sqlx::Error> {
    let sql = format!(
        "{ACCOUNT_SELECT} ORDER BY {}, a.id",
        pool.dialect().nocase("a.email")
    );
    let rows: Vec<AccountRow> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .fetch_all(connection)
        .await?);
    Ok(rows.into_iter().map(AdminAccount::from).collect())
}

pub async fn account(pool: &Pool, id: i64) -> Result<Option<AdminAccount>, sqlx::Error> {
    let sql = format!("{ACCOUNT_SELECT} WHERE a.id = $1");
    let row: Option<AccountRow> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(connection)
        .await?);
    Ok(row.map(AdminAccount::from))
}

/// What an admin becomes.
pub struct AdminUpdate<'a> {
    pub role: Role,
    pub customer_id: Option<i64>,
    pub disabled: bool,
    pub display_name: &'a str,
}

/// The change of an admin, unless it would leave no active MSP admin.
const UPDATE_ADMIN: &str = "UPDATE admins \
    SET role = $1, customer_id = $2, disabled = $3, display_name = $4 \
    WHERE id = $5 AND ($6 OR EXISTS (SELECT 1 FROM admins \
      WHERE role = 'msp_admin' AND NOT disabled AND id != $5))";

/// Applies `update` unless it would leave no active MSP admin: the check is part of the
/// statement, so two admins demoting each other at once cannot both succeed. False when the
/// change was refused for that reason.
pub async fn update<'a>(
    executor: impl Into<Executor<'a>>,
    id: i64,
    update: &AdminUpdate<'_>,
) -> Result<bool, sqlx::Error> {
    let stays_msp_admin = update.role == Role::MspAdmin && !update.disabled;
    let executor = executor.into();
    // PostgreSQL checks the condition against the rows as they were when the statement began:
    // two admins demoting each other at once would each still see the other active. Locking
    // the active MSP admins first makes the second wait for the first's commit and see it (the
    // caller's transaction holds the locks). SQLite's writers already take turns.
    let lock_msp_admins = executor.dialect() == Dialect::Postgres;
    let done = on_backend!(executor, |connection| {
        if lock_msp_admins {
            sqlx::query(
                "SELECT id FROM admins WHERE role = 'msp_admin' AND NOT disabled ORDER BY id \
                 FOR UPDATE",
            )
            .fetch_all(&mut *connection)
            .await?;
        }
        sqlx::query(UPDATE_ADMIN)
            .bind(update.role.key())
            .bind(update.customer_id)
            .bind(update.disabled)
            .bind(update.display_name)
            .bind(id)
            .bind(stays_msp_admin)
            .execute(connection)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

pub async fn set_password_hash(pool: &Pool, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query(
        "UPDATE admins SET password_hash = $1 WHERE id = $2"
    )
    .bind(hash)
    .bind(id)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

/// A session joined with its admin.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub admin_id: i64,
    #[sqlx(try_from = "StoredTime")]
    pub created_at: DateTime<Utc>,
    #[sqlx(try_from = "StoredTime")]
    pub last_seen_at: DateTime<Utc>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub customer_id: Option<i64>,
    pub disabled: bool,
}

pub async fn insert_session(
    pool: &Pool,
    token_hash: &str,
    admin_id: i64,
    client_address: Option<&str>,
) -> Result<(), sqlx::Error> {
    let now = StoredTime::now();
    on_backend!(pool, |connection| sqlx::query(
        "INSERT INTO sessions (token_hash, admin_id, created_at, last_seen_at, client_address) \
         VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(token_hash)
    .bind(admin_id)
    .bind(now)
    .bind(client_address)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn find_session(
    pool: &Pool,
    token_hash: &str,
) -> Result<Option<SessionRecord>, sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query_as(
        "SELECT s.admin_id, s.created_at, s.last_seen_at, a.email, a.display_name, a.role, \
                a.customer_id, a.disabled \
         FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(connection)
    .await)
}

pub async fn touch_session(pool: &Pool, token_hash: &str) -> Result<(), sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2"
    )
    .bind(StoredTime::now())
    .bind(token_hash)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn delete_session(pool: &Pool, token_hash: &str) -> Result<(), sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1"
    )
    .bind(token_hash)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn delete_sessions_of<'a>(
    executor: impl Into<Executor<'a>>,
    admin_id: i64,
) -> Result<(), sqlx::Error> {
    on_backend!(executor, |connection| sqlx::query(
        "DELETE FROM sessions WHERE admin_id = $1"
    )
    .bind(admin_id)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    disabled: bool,
    #[sqlx(try_from = "StoredTime")]
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
