//! Per-admin column layouts, saved views and default views of a report.

use super::Pool;
use chrono::{DateTime, Utc};
use provisio_api::report::{decode_columns, encode_columns, ColumnLayout, SavedView};

use super::admins::now_text;
use super::Principal;

/// The admin's saved layout of `report`, if any; an unreadable stored layout counts as none.
pub async fn layout(
    pool: &Pool,
    admin_id: i64,
    report: &str,
) -> Result<Option<ColumnLayout>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT layout FROM column_layouts WHERE admin_id = ? AND report = ?")
            .bind(admin_id)
            .bind(report)
            .fetch_optional(pool)
            .await?;
    Ok(stored
        .and_then(|text| serde_json::from_str::<ColumnLayout>(&text).ok())
        .map(ColumnLayout::with_every_field)
        .filter(|layout| layout.check().is_ok()))
}

pub async fn save_layout(
    pool: &Pool,
    admin_id: i64,
    report: &str,
    layout: &ColumnLayout,
) -> Result<(), sqlx::Error> {
    let pool = pool.sqlite()?;
    let text = serde_json::to_string(layout).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    sqlx::query(
        "INSERT INTO column_layouts (admin_id, report, layout, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (admin_id, report) DO UPDATE SET layout = excluded.layout, \
         updated_at = excluded.updated_at",
    )
    .bind(admin_id)
    .bind(report)
    .bind(text)
    .bind(now_text())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_layout(pool: &Pool, admin_id: i64, report: &str) -> Result<(), sqlx::Error> {
    let pool = pool.sqlite()?;
    sqlx::query("DELETE FROM column_layouts WHERE admin_id = ? AND report = ?")
        .bind(admin_id)
        .bind(report)
        .execute(pool)
        .await?;
    Ok(())
}

/// The User Provisioning report's key in the tables of views and layouts.
pub const USER_PROVISIONING: &str = "user_provisioning";

#[derive(sqlx::FromRow)]
struct ViewRecord {
    id: i64,
    name: String,
    owner_admin_id: i64,
    owner_name: String,
    shared: bool,
    query: String,
    columns: String,
    updated_at: DateTime<Utc>,
}

impl ViewRecord {
    fn into_view(self, viewer: &Principal) -> SavedView {
        SavedView {
            id: self.id,
            name: self.name,
            owner_name: self.owner_name,
            owned: self.owner_admin_id == viewer.admin_id,
            shared: self.shared,
            query: self.query,
            columns: decode_columns(&self.columns).unwrap_or_default(),
            updated_at: self.updated_at,
        }
    }
}

const SELECT_VIEWS: &str = "SELECT v.id, v.name, v.owner_admin_id, o.display_name AS owner_name, \
     v.shared, v.query, v.columns, v.updated_at \
     FROM saved_views v JOIN admins o ON o.id = v.owner_admin_id \
     WHERE v.report = ? AND (v.owner_admin_id = ? OR (v.shared = 1 AND o.customer_id IS ?))";

/// The views `viewer` may use, by name.
pub async fn list(
    pool: &Pool,
    viewer: &Principal,
    report: &str,
) -> Result<Vec<SavedView>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let records: Vec<ViewRecord> = sqlx::query_as(&format!(
        "{SELECT_VIEWS} ORDER BY v.name COLLATE NOCASE, v.id"
    ))
    .bind(report)
    .bind(viewer.admin_id)
    .bind(viewer.customer)
    .fetch_all(pool)
    .await?;
    Ok(records.into_iter().map(|r| r.into_view(viewer)).collect())
}

/// One view `viewer` may use, or None (whether it does not exist or is someone else's).
pub async fn find(
    pool: &Pool,
    viewer: &Principal,
    report: &str,
    id: i64,
) -> Result<Option<SavedView>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let record: Option<ViewRecord> = sqlx::query_as(&format!("{SELECT_VIEWS} AND v.id = ?"))
        .bind(report)
        .bind(viewer.admin_id)
        .bind(viewer.customer)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(record.map(|r| r.into_view(viewer)))
}

pub struct ViewContent<'a> {
    pub name: &'a str,
    pub query: &'a str,
    pub columns: &'a [provisio_api::report::ReportField],
    pub shared: bool,
}

/// Whether the owner already has another view of this name.
pub async fn name_taken(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    name: &str,
    except_id: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM saved_views WHERE owner_admin_id = ? AND report = ? \
         AND name = ? COLLATE NOCASE AND id IS NOT ?",
    )
    .bind(owner_admin_id)
    .bind(report)
    .bind(name)
    .bind(except_id)
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

pub async fn insert(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    content: &ViewContent<'_>,
) -> Result<i64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let now = now_text();
    sqlx::query_scalar(
        "INSERT INTO saved_views (owner_admin_id, report, name, query, columns, shared, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(owner_admin_id)
    .bind(report)
    .bind(content.name)
    .bind(content.query)
    .bind(encode_columns(content.columns))
    .bind(content.shared)
    .bind(&now)
    .bind(&now)
    .fetch_one(pool)
    .await
}

/// Replaces a view the owner has; false when there is no such view of theirs.
pub async fn update(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    id: i64,
    content: &ViewContent<'_>,
) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let done = sqlx::query(
        "UPDATE saved_views SET name = ?, query = ?, columns = ?, shared = ?, updated_at = ? \
         WHERE id = ? AND owner_admin_id = ? AND report = ?",
    )
    .bind(content.name)
    .bind(content.query)
    .bind(encode_columns(content.columns))
    .bind(content.shared)
    .bind(now_text())
    .bind(id)
    .bind(owner_admin_id)
    .bind(report)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a view the owner has; false when there is no such view of theirs. Admins who had
/// it as their default fall back to the plain report.
pub async fn delete(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut tx = super::write_transaction(pool).await?;
    sqlx::query("DELETE FROM default_views WHERE view_id = ?")
        .bind(id)
        .execute(tx.sqlite()?)
        .await?;
    let done =
        sqlx::query("DELETE FROM saved_views WHERE id = ? AND owner_admin_id = ? AND report = ?")
            .bind(id)
            .bind(owner_admin_id)
            .bind(report)
            .execute(tx.sqlite()?)
            .await?;
    if done.rows_affected() == 1 {
        tx.commit().await?;
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

/// The view that opens the report for this admin, if it is still one they may use.
pub async fn default_view(
    pool: &Pool,
    viewer: &Principal,
    report: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT view_id FROM default_views WHERE admin_id = ? AND report = ?")
            .bind(viewer.admin_id)
            .bind(report)
            .fetch_optional(pool.sqlite()?)
            .await?;
    match id {
        Some(id) => Ok(find(pool, viewer, report, id).await?.map(|view| view.id)),
        None => Ok(None),
    }
}

pub async fn set_default_view(
    pool: &Pool,
    admin_id: i64,
    report: &str,
    view_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    let pool = pool.sqlite()?;
    match view_id {
        Some(view_id) => {
            sqlx::query(
                "INSERT INTO default_views (admin_id, report, view_id) VALUES (?, ?, ?) \
                 ON CONFLICT (admin_id, report) DO UPDATE SET view_id = excluded.view_id",
            )
            .bind(admin_id)
            .bind(report)
            .bind(view_id)
            .execute(pool)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM default_views WHERE admin_id = ? AND report = ?")
                .bind(admin_id)
                .bind(report)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
