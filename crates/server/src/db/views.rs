//! Per-admin column layouts, saved views and default views of a report.

use chrono::{DateTime, Utc};
use provisio_api::report::{decode_columns, encode_columns, ColumnLayout, SavedView};

use super::time::StoredTime;
use super::{on_backend, Pool, Principal};

/// The admin's saved layout of `report`, if any; an unreadable stored layout counts as none.
pub async fn layout(
    pool: &Pool,
    admin_id: i64,
    report: &str,
) -> Result<Option<ColumnLayout>, sqlx::Error> {
    let stored: Option<String> = on_backend!(pool, |connection| sqlx::query_scalar(
        "SELECT layout FROM column_layouts WHERE admin_id = $1 AND report = $2"
    )
    .bind(admin_id)
    .bind(report)
    .fetch_optional(connection)
    .await?);
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
    let text = serde_json::to_string(layout).map_err(|err| sqlx::Error::Encode(Box::new(err)))?;
    on_backend!(pool, |connection| sqlx::query(
        "INSERT INTO column_layouts (admin_id, report, layout, updated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (admin_id, report) DO UPDATE SET layout = excluded.layout, \
         updated_at = excluded.updated_at",
    )
    .bind(admin_id)
    .bind(report)
    .bind(&text)
    .bind(StoredTime::now())
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

pub async fn delete_layout(pool: &Pool, admin_id: i64, report: &str) -> Result<(), sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query(
        "DELETE FROM column_layouts WHERE admin_id = $1 AND report = $2"
    )
    .bind(admin_id)
    .bind(report)
    .execute(connection)
    .await?
    .rows_affected());
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
    #[sqlx(try_from = "StoredTime")]
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
     WHERE v.report = $1 AND (v.owner_admin_id = $2 \
       OR (v.shared AND o.customer_id IS NOT DISTINCT FROM $3))";

/// The views `viewer` may use, by name.
pub async fn list(
    pool: &Pool,
    viewer: &Principal,
    report: &str,
) -> Result<Vec<SavedView>, sqlx::Error> {
    let sql = format!(
        "{SELECT_VIEWS} ORDER BY {}, v.id",
        pool.dialect().nocase("v.name")
    );
    let records: Vec<ViewRecord> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(report)
        .bind(viewer.admin_id)
        .bind(viewer.customer)
        .fetch_all(connection)
        .await?);
    Ok(records.into_iter().map(|r| r.into_view(viewer)).collect())
}

/// One view `viewer` may use, or None (whether it does not exist or is someone else's).
pub async fn find(
    pool: &Pool,
    viewer: &Principal,
    report: &str,
    id: i64,
) -> Result<Option<SavedView>, sqlx::Error> {
    let sql = format!("{SELECT_VIEWS} AND v.id = $4");
    let record: Option<ViewRecord> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(report)
        .bind(viewer.admin_id)
        .bind(viewer.customer)
        .bind(id)
        .fetch_optional(connection)
        .await?);
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
    let nocase = |expression| pool.dialect().nocase(expression);
    let sql = format!(
        "SELECT id FROM saved_views WHERE owner_admin_id = $1 AND report = $2 \
         AND {} = {} AND id IS DISTINCT FROM $4",
        nocase("name"),
        nocase("$3")
    );
    let found: Option<i64> = on_backend!(pool, |connection| sqlx::query_scalar(&sql)
        .bind(owner_admin_id)
        .bind(report)
        .bind(name)
        .bind(except_id)
        .fetch_optional(connection)
        .await?);
    Ok(found.is_some())
}

pub async fn insert(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    content: &ViewContent<'_>,
) -> Result<i64, sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query_scalar(
        "INSERT INTO saved_views (owner_admin_id, report, name, query, columns, shared, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(owner_admin_id)
    .bind(report)
    .bind(content.name)
    .bind(content.query)
    .bind(encode_columns(content.columns))
    .bind(content.shared)
    .bind(StoredTime::now())
    .fetch_one(connection)
    .await)
}

/// Replaces a view the owner has; false when there is no such view of theirs.
pub async fn update(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    id: i64,
    content: &ViewContent<'_>,
) -> Result<bool, sqlx::Error> {
    let done = on_backend!(pool, |connection| sqlx::query(
        "UPDATE saved_views SET name = $1, query = $2, columns = $3, shared = $4, \
         updated_at = $5 WHERE id = $6 AND owner_admin_id = $7 AND report = $8",
    )
    .bind(content.name)
    .bind(content.query)
    .bind(encode_columns(content.columns))
    .bind(content.shared)
    .bind(StoredTime::now())
    .bind(id)
    .bind(owner_admin_id)
    .bind(report)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Deletes a view the owner has; false when there is no such view of theirs. Admins who had
/// it as their default fall back to the plain report.
pub async fn delete(
    pool: &Pool,
    owner_admin_id: i64,
    report: &str,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::write_transaction(pool).await?;
    let done = on_backend!(&mut tx, |connection| {
        sqlx::query("DELETE FROM default_views WHERE view_id = $1")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        sqlx::query("DELETE FROM saved_views WHERE id = $1 AND owner_admin_id = $2 AND report = $3")
            .bind(id)
            .bind(owner_admin_id)
            .bind(report)
            .execute(connection)
            .await?
            .rows_affected()
    });
    if done == 1 {
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
    let id: Option<i64> = on_backend!(pool, |connection| sqlx::query_scalar(
        "SELECT view_id FROM default_views WHERE admin_id = $1 AND report = $2"
    )
    .bind(viewer.admin_id)
    .bind(report)
    .fetch_optional(connection)
    .await?);
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
    on_backend!(pool, |connection| match view_id {
        Some(view_id) => sqlx::query(
            "INSERT INTO default_views (admin_id, report, view_id) VALUES ($1, $2, $3) \
             ON CONFLICT (admin_id, report) DO UPDATE SET view_id = excluded.view_id",
        )
        .bind(admin_id)
        .bind(report)
        .bind(view_id)
        .execute(connection)
        .await?
        .rows_affected(),
        None => sqlx::query("DELETE FROM default_views WHERE admin_id = $1 AND report = $2")
            .bind(admin_id)
            .bind(report)
            .execute(connection)
            .await?
            .rows_affected(),
    });
    Ok(())
}
