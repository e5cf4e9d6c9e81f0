//! SCIM groups of one customer and their members (live SCIM users of the same customer).

use super::Pool;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor};

use super::admins::now_text;
use super::provisioning::Change;
use super::scim_filter::{Condition, Listing};

/// What a client sets on a group; `members` are users' SCIM ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupFields {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ScimGroup {
    pub scim_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    /// The members' SCIM ids; empty when the members were not asked for.
    pub members: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ScimGroup {
    pub fn fields(&self) -> GroupFields {
        GroupFields {
            display_name: self.display_name.clone(),
            external_id: self.external_id.clone(),
            members: self.members.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct GroupRecord {
    id: i64,
    scim_id: String,
    display_name: String,
    external_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const SELECT_GROUPS: &str =
    "SELECT id, scim_id, display_name, external_id, created_at, updated_at, version \
     FROM scim_groups g";

const GROUPS: Listing = Listing {
    select: SELECT_GROUPS,
    from: "FROM scim_groups g",
    customer: "g.customer_id",
    live: "",
    order: "g.id",
};

/// One page (1-based `start_index`) of the customer's groups, in creation order, and the total.
pub async fn list(
    pool: &Pool,
    customer_id: i64,
    condition: Option<&Condition>,
    start_index: i64,
    count: i64,
    with_members: bool,
) -> Result<(Vec<ScimGroup>, i64), sqlx::Error> {
    let pool = pool.sqlite()?;
    let (records, total) = GROUPS
        .page(pool, customer_id, condition, start_index, count)
        .await?;
    let groups = with_member_lists(pool, records, with_members).await?;
    Ok((groups, total))
}

pub async fn find(
    pool: &Pool,
    customer_id: i64,
    scim_id: &str,
    with_members: bool,
) -> Result<Option<ScimGroup>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut conn = pool.acquire().await?;
    find_in(&mut conn, customer_id, scim_id, with_members).await
}

/// [`find`] on the caller's connection (inside its transaction).
pub async fn find_in(
    conn: &mut SqliteConnection,
    customer_id: i64,
    scim_id: &str,
    with_members: bool,
) -> Result<Option<ScimGroup>, sqlx::Error> {
    let record: Option<GroupRecord> = GROUPS
        .find(&mut *conn, customer_id, "g.scim_id", scim_id)
        .await?;
    let groups = with_member_lists(conn, record.into_iter().collect(), with_members).await?;
    Ok(groups.into_iter().next())
}

async fn with_member_lists<'c>(
    executor: impl SqliteExecutor<'c>,
    records: Vec<GroupRecord>,
    with_members: bool,
) -> Result<Vec<ScimGroup>, sqlx::Error> {
    let mut members: HashMap<i64, Vec<String>> = HashMap::new();
    if with_members && !records.is_empty() {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT m.group_id, u.scim_id FROM scim_group_members m \
             JOIN users u ON u.id = m.user_id WHERE u.scim_deleted = 0 AND m.group_id IN (",
        );
        let mut ids = sql.separated(", ");
        for record in &records {
            ids.push_bind(record.id);
        }
        sql.push(") ORDER BY m.group_id, u.id");
        let rows: Vec<(i64, String)> = sql.build_query_as().fetch_all(executor).await?;
        for (group_id, scim_id) in rows {
            members.entry(group_id).or_default().push(scim_id);
        }
    }
    Ok(records
        .into_iter()
        .map(|r| ScimGroup {
            members: members.remove(&r.id).unwrap_or_default(),
            scim_id: r.scim_id,
            display_name: r.display_name,
            external_id: r.external_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
        .collect())
}

/// Whether another group of the customer has this display name (case-insensitively).
pub async fn name_taken(
    conn: &mut SqliteConnection,
    customer_id: i64,
    display_name: &str,
    except_scim_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM scim_groups WHERE customer_id = ? AND display_name = ? COLLATE NOCASE \
         AND scim_id IS NOT ?",
    )
    .bind(customer_id)
    .bind(display_name)
    .bind(except_scim_id)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The ids among `members` that are not live SCIM users of the customer.
pub async fn unknown_members(
    conn: &mut SqliteConnection,
    customer_id: i64,
    members: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut unknown = Vec::new();
    for member in members {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM users WHERE customer_id = ? AND scim_id = ? AND scim_deleted = 0",
        )
        .bind(customer_id)
        .bind(member)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            unknown.push(member.clone());
        }
    }
    Ok(unknown)
}

/// Creates a group and logs `change` with it, in the caller's transaction.
pub async fn insert(
    tx: &mut SqliteConnection,
    customer_id: i64,
    fields: &GroupFields,
    change: &Change<'_>,
) -> Result<ScimGroup, sqlx::Error> {
    let scim_id = uuid::Uuid::new_v4().to_string();
    let now = now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scim_groups (customer_id, scim_id, display_name, external_id, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(customer_id)
    .bind(&scim_id)
    .bind(&fields.display_name)
    .bind(&fields.external_id)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    set_members(tx, id, customer_id, &fields.members).await?;
    change.record(tx, customer_id, &scim_id).await?;
    find_in(tx, customer_id, &scim_id, true)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Replaces a group's name, external id and members, and logs `change` with it, in the
/// caller's transaction; only while the group is still at `version` (None otherwise).
pub async fn update(
    tx: &mut SqliteConnection,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    fields: &GroupFields,
    change: &Change<'_>,
) -> Result<Option<ScimGroup>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "UPDATE scim_groups SET display_name = ?, external_id = ?, updated_at = ?, \
         version = version + 1 WHERE customer_id = ? AND scim_id = ? AND version = ? RETURNING id",
    )
    .bind(&fields.display_name)
    .bind(&fields.external_id)
    .bind(now_text())
    .bind(customer_id)
    .bind(scim_id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    set_members(tx, id, customer_id, &fields.members).await?;
    change.record(tx, customer_id, scim_id).await?;
    find_in(tx, customer_id, scim_id, true).await
}

/// Adds the members that are live users of the customer; others are skipped (the caller has
/// refused unknown ids already; this keeps the write itself within the customer).
async fn set_members(
    tx: &mut SqliteConnection,
    group_id: i64,
    customer_id: i64,
    members: &[String],
) -> Result<(), sqlx::Error> {
    for member in members {
        sqlx::query(
            "INSERT OR IGNORE INTO scim_group_members (group_id, user_id) SELECT ?, id FROM users \
             WHERE customer_id = ? AND scim_id = ? AND scim_deleted = 0",
        )
        .bind(group_id)
        .bind(customer_id)
        .bind(member)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Deletes a group and its memberships, and logs `change` with it, in the caller's
/// transaction; only while the group is still at `version`.
pub async fn delete(
    tx: &mut SqliteConnection,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    change: &Change<'_>,
) -> Result<bool, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM scim_groups WHERE customer_id = ? AND scim_id = ? AND version = ?",
    )
    .bind(customer_id)
    .bind(scim_id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(false);
    };
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM scim_groups WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    change.record(tx, customer_id, scim_id).await?;
    Ok(true)
}
