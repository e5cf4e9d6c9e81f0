//! SCIM groups of one customer and their members (live SCIM users of the same customer).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

use super::provisioning::Change;
use super::scim_filter::{Condition, Listing};
use super::time::StoredTime;
use super::{on_backend, Engine, Executor, Pool};

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
    #[sqlx(try_from = "StoredTime")]
    created_at: DateTime<Utc>,
    #[sqlx(try_from = "StoredTime")]
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
    find_in(pool, customer_id, scim_id, with_members).await
}

/// [`find`] on the caller's executor (inside its transaction, say).
pub async fn find_in<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    scim_id: &str,
    with_members: bool,
) -> Result<Option<ScimGroup>, sqlx::Error> {
    let groups = on_backend!(executor, |connection| {
        let record: Option<GroupRecord> = GROUPS
            .find(&mut *connection, customer_id, "g.scim_id", scim_id)
            .await?;
        with_member_lists(connection, record.into_iter().collect(), with_members).await?
    });
    Ok(groups.into_iter().next())
}

async fn with_member_lists<'a>(
    executor: impl Into<Executor<'a>>,
    records: Vec<GroupRecord>,
    with_members: bool,
) -> Result<Vec<ScimGroup>, sqlx::Error> {
    let mut members: HashMap<i64, Vec<String>> = HashMap::new();
    if with_members && !records.is_empty() {
        let rows: Vec<(i64, String)> = on_backend!(executor, |connection| {
            let mut sql = QueryBuilder::new(
                "SELECT m.group_id, u.scim_id FROM scim_group_members m \
                 JOIN users u ON u.id = m.user_id WHERE NOT u.scim_deleted AND m.group_id IN (",
            );
            for (index, record) in records.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                Engine::bind_i64(&mut sql, record.id);
            }
            sql.push(") ORDER BY m.group_id, u.id");
            sql.build_query_as().fetch_all(connection).await?
        });
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
pub async fn name_taken<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    display_name: &str,
    except_scim_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let executor = executor.into();
    let nocase = |expression| executor.dialect().nocase(expression);
    let sql = format!(
        "SELECT id FROM scim_groups WHERE customer_id = $1 AND {} = {} \
         AND scim_id IS DISTINCT FROM $3",
        nocase("display_name"),
        nocase("$2")
    );
    let found: Option<i64> = on_backend!(executor, |connection| sqlx::query_scalar(&sql)
        .bind(customer_id)
        .bind(display_name)
        .bind(except_scim_id)
        .fetch_optional(connection)
        .await?);
    Ok(found.is_some())
}

/// The ids among `members` that are not live SCIM users of the customer.
pub async fn unknown_members<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    members: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut unknown = Vec::new();
    on_backend!(executor, |connection| {
        for member in members {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM users WHERE customer_id = $1 AND scim_id = $2 \
                 AND NOT scim_deleted",
            )
            .bind(customer_id)
            .bind(member)
            .fetch_optional(&mut *connection)
            .await?;
            if found.is_none() {
                unknown.push(member.clone());
            }
        }
    });
    Ok(unknown)
}

/// Creates a group and logs `change` with it, in the caller's transaction.
pub async fn insert<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    fields: &GroupFields,
    change: &Change<'_>,
) -> Result<ScimGroup, sqlx::Error> {
    let scim_id = uuid::Uuid::new_v4().to_string();
    let now = StoredTime::now();
    let group = on_backend!(tx, |connection| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO scim_groups (customer_id, scim_id, display_name, external_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(customer_id)
        .bind(&scim_id)
        .bind(&fields.display_name)
        .bind(&fields.external_id)
        .bind(now)
        .fetch_one(&mut *connection)
        .await?;
        set_members(&mut *connection, id, customer_id, &fields.members).await?;
        change
            .record(&mut *connection, customer_id, &scim_id)
            .await?;
        find_in(connection, customer_id, &scim_id, true).await?
    });
    group.ok_or(sqlx::Error::RowNotFound)
}

/// Replaces a group's name, external id and members, and logs `change` with it, in the
/// caller's transaction; only while the group is still at `version` (None otherwise).
pub async fn update<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    fields: &GroupFields,
    change: &Change<'_>,
) -> Result<Option<ScimGroup>, sqlx::Error> {
    on_backend!(tx, |connection| {
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE scim_groups SET display_name = $1, external_id = $2, updated_at = $3, \
             version = version + 1 WHERE customer_id = $4 AND scim_id = $5 AND version = $6 \
             RETURNING id",
        )
        .bind(&fields.display_name)
        .bind(&fields.external_id)
        .bind(StoredTime::now())
        .bind(customer_id)
        .bind(scim_id)
        .bind(version)
        .fetch_optional(&mut *connection)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        set_members(&mut *connection, id, customer_id, &fields.members).await?;
        change
            .record(&mut *connection, customer_id, scim_id)
            .await?;
        find_in(connection, customer_id, scim_id, true).await
    })
}

/// Adds the members that are live users of the customer; others are skipped (the caller has
/// refused unknown ids already; this keeps the write itself within the customer).
async fn set_members<'a>(
    tx: impl Into<Executor<'a>>,
    group_id: i64,
    customer_id: i64,
    members: &[String],
) -> Result<(), sqlx::Error> {
    on_backend!(tx, |connection| {
        for member in members {
            sqlx::query(
                "INSERT INTO scim_group_members (group_id, user_id) SELECT $1, id FROM users \
                 WHERE customer_id = $2 AND scim_id = $3 AND NOT scim_deleted \
                 ON CONFLICT DO NOTHING",
            )
            .bind(group_id)
            .bind(customer_id)
            .bind(member)
            .execute(&mut *connection)
            .await?;
        }
    });
    Ok(())
}

/// Deletes a group and its memberships, and logs `change` with it, in the caller's
/// transaction; only while the group is still at `version`.
pub async fn delete<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    change: &Change<'_>,
) -> Result<bool, sqlx::Error> {
    on_backend!(tx, |connection| {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM scim_groups WHERE customer_id = $1 AND scim_id = $2 AND version = $3",
        )
        .bind(customer_id)
        .bind(scim_id)
        .bind(version)
        .fetch_optional(&mut *connection)
        .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        sqlx::query("DELETE FROM scim_groups WHERE id = $1")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        change.record(connection, customer_id, scim_id).await?;
    });
    Ok(true)
}
