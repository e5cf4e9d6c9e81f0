//! One user at a time, for the user page: their details, their history, and the changes an
//! admin makes by hand.

use std::collections::BTreeMap;

use super::time::StoredTime;
use super::{on_backend, Dialect, Executor, Scope};
use chrono::{DateTime, Utc};
use provisio_api::auth::CustomerRef;
use provisio_api::scim::IdentityProvider;
use provisio_api::user::{ManualPlacement, TimelineEntry, UserDetail};
use serde_json::json;
use sqlx::types::Json;

#[derive(sqlx::FromRow)]
struct DetailRecord {
    id: i64,
    customer_id: i64,
    global_id: String,
    customer_name: String,
    user_name: String,
    email: String,
    status: String,
    license: String,
    profile: String,
    storage_region: Option<String>,
    quota_gb: Option<i64>,
    mapping: Option<String>,
    placement_manual: bool,
    managed_by: String,
    usage_mb: i64,
    #[sqlx(try_from = "StoredTime")]
    created_at: DateTime<Utc>,
    updated_at: Option<StoredTime>,
    scim_id: Option<String>,
    scim_deleted: bool,
    scim_user_name: Option<String>,
    external_id: Option<String>,
    scim_attributes: Json<BTreeMap<String, String>>,
}

/// The user with this id, if the scope sees them.
pub async fn detail<'a>(
    conn: impl Into<Executor<'a>>,
    scope: Scope,
    id: i64,
) -> Result<Option<UserDetail>, sqlx::Error> {
    let conn = conn.into();
    let groups_in_order = format!(
        "SELECT g.display_name FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id \
         WHERE m.user_id = $1 ORDER BY {}, g.id",
        conn.dialect().nocase("g.display_name")
    );
    on_backend!(conn, |conn| {
        let record: Option<DetailRecord> = sqlx::query_as(
            "SELECT u.id, u.customer_id, c.global_id, c.name AS customer_name, u.user_name, u.email, \
             u.status, u.license, p.name AS profile, sr.name AS storage_region, u.quota_gb, \
             m.name AS mapping, u.placement_manual, u.managed_by, u.usage_mb, u.created_at, u.updated_at, u.scim_id, \
             u.scim_deleted, u.scim_user_name, u.external_id, u.scim_attributes \
             FROM users u JOIN customers c ON c.id = u.customer_id \
             JOIN profiles p ON p.id = u.profile_id \
             LEFT JOIN storage_regions sr ON sr.id = u.storage_region_id \
             LEFT JOIN mappings m ON m.id = u.mapping_id \
             WHERE u.id = $1 AND ($2 IS NULL OR u.customer_id = $3)",
        )
        .bind(id)
        .bind(scope.customer_id())
        .bind(scope.customer_id())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(r) = record else {
            return Ok(None);
        };
        let groups: Vec<String> = sqlx::query_scalar(&groups_in_order)
            .bind(r.id)
            .fetch_all(conn)
            .await?;
        Ok(Some(UserDetail {
            id: r.id,
            customer: CustomerRef {
                id: r.customer_id,
                global_id: r.global_id,
                name: r.customer_name,
            },
            user_name: r.user_name,
            email: r.email,
            status: r.status,
            license: r.license,
            profile: r.profile,
            storage_region: r.storage_region,
            quota_gb: r.quota_gb.and_then(|q| u32::try_from(q).ok()),
            mapping: r.mapping,
            placement_manual: r.placement_manual,
            managed_by: r.managed_by,
            usage_mb: r.usage_mb,
            created_at: r.created_at,
            updated_at: r.updated_at.map(DateTime::from),
            scim_id: r.scim_id.filter(|_| !r.scim_deleted),
            scim_user_name: r.scim_user_name,
            external_id: r.external_id,
            groups,
            directory: r.scim_attributes.0,
        }))
    })
}

#[derive(sqlx::FromRow)]
struct EventRecord {
    id: i64,
    #[sqlx(try_from = "StoredTime")]
    at: DateTime<Utc>,
    action: String,
    outcome: String,
    admin_email: Option<String>,
    token_name: Option<String>,
    identity_provider: Option<String>,
    changes: String,
    error: Option<String>,
}

/// Longest history a user page shows.
pub const TIMELINE_LIMIT: i64 = 500;

/// The user's provisioning events, newest first.
pub async fn timeline<'a>(
    executor: impl Into<Executor<'a>>,
    user_id: i64,
) -> Result<Vec<TimelineEntry>, sqlx::Error> {
    on_backend!(executor, |executor| {
        let records: Vec<EventRecord> = sqlx::query_as(
            "SELECT e.id, e.at, e.action, e.outcome, e.admin_email, t.name AS token_name, \
             t.identity_provider, e.changes, e.error FROM provisioning_events e \
             LEFT JOIN scim_tokens t ON t.id = e.token_id \
             WHERE e.user_id = $1 ORDER BY e.id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(TIMELINE_LIMIT)
        .fetch_all(executor)
        .await?;
        Ok(records
            .into_iter()
            .map(|r| TimelineEntry {
                id: r.id,
                at: r.at,
                actor: match (r.admin_email, r.token_name, r.identity_provider) {
                    (Some(admin), _, _) => admin,
                    (None, Some(token), Some(key)) => {
                        let provider = IdentityProvider::from_key(&key)
                            .map_or_else(|| key.clone(), |idp| idp.label().to_owned());
                        format!("{provider} (token “{token}”)")
                    }
                    (None, Some(token), None) => format!("token “{token}”"),
                    (None, None, _) => "Mappings".to_owned(),
                },
                succeeded: r.outcome != "failure",
                changes: serde_json::from_str(&r.changes).unwrap_or_else(|_| json!({})),
                action: r.action,
                error: r.error,
            })
            .collect())
    })
}

/// Preserves (`preserve`) or restores a user of the customer by an admin's hand, with its
/// provisioning event, in the caller's transaction; the status before, or None when the user
/// already had the status asked for (nothing is written then).
pub async fn set_preserved<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    user_id: i64,
    preserve: bool,
    admin_email: &str,
) -> Result<Option<String>, sqlx::Error> {
    on_backend!(tx, |tx| {
        let (status, license, action) = if preserve {
            ("Preserved", "preserved", "preserve")
        } else {
            ("Active", "active", "restore")
        };
        let before: Option<String> =
            sqlx::query_scalar("SELECT status FROM users WHERE id = $1 AND customer_id = $2")
                .bind(user_id)
                .bind(customer_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(before) = before.filter(|before| before != status) else {
            return Ok(None);
        };
        // Conditional on what was read, though the write transaction already holds the writer.
        sqlx::query(
            "UPDATE users SET status = $1, license = $2, updated_at = $3, version = version + 1 \
             WHERE id = $4 AND status = $5",
        )
        .bind(status)
        .bind(license)
        .bind(StoredTime::now())
        .bind(user_id)
        .bind(&before)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO provisioning_events (at, customer_id, action, kind, outcome, identity, \
             target_id, changes, user_id, admin_email) \
             SELECT $1, $2, $3, $4, 'success', email, scim_id, $5, id, $6 FROM users WHERE id = $7",
        )
        .bind(StoredTime::now())
        .bind(customer_id)
        .bind(action)
        .bind(super::provisioning::kind_of(action).key())
        .bind(json!({"status": {"before": before, "after": status}}).to_string())
        .bind(admin_email)
        .bind(user_id)
        .execute(tx)
        .await?;
        Ok(Some(before))
    })
}

/// What a placement by hand did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementChange {
    Changed,
    /// The user was already placed so; nothing was written.
    AlreadySo,
    /// The profile or region is not the customer's; nothing was written.
    NotTheCustomers,
}

/// Places the customer's user by hand (or, with None, clears a placement by hand), with its
/// provisioning event, in the caller's transaction.
pub async fn set_manual_placement<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    user_id: i64,
    placement: Option<&ManualPlacement>,
    admin_email: &str,
) -> Result<PlacementChange, sqlx::Error> {
    on_backend!(tx, |tx| {
        let before: (i64, Option<i64>, Option<i64>, bool) = sqlx::query_as(
            "SELECT profile_id, storage_region_id, quota_gb, placement_manual FROM users \
             WHERE id = $1 AND customer_id = $2",
        )
        .bind(user_id)
        .bind(customer_id)
        .fetch_one(&mut *tx)
        .await?;
        let changes = match placement {
            Some(to) => {
                let owned: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM profiles WHERE id = $1 AND customer_id = $2) \
                          + (SELECT COUNT(*) FROM storage_regions WHERE id = $3 AND customer_id = $4)",
                )
                .bind(to.profile_id)
                .bind(customer_id)
                .bind(to.storage_region_id)
                .bind(customer_id)
                .fetch_one(&mut *tx)
                .await?;
                if owned != 2 {
                    return Ok(PlacementChange::NotTheCustomers);
                }
                let quota = to.quota_gb.map(i64::from);
                if before == (to.profile_id, Some(to.storage_region_id), quota, true) {
                    return Ok(PlacementChange::AlreadySo);
                }
                sqlx::query(
                    "UPDATE users SET profile_id = $1, storage_region_id = $2, quota_gb = $3, \
                     mapping_id = NULL, placement_manual = TRUE, updated_at = $4 WHERE id = $5",
                )
                .bind(to.profile_id)
                .bind(to.storage_region_id)
                .bind(quota)
                .bind(StoredTime::now())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                json!({
                    "profileId": {"before": before.0, "after": to.profile_id},
                    "storageRegionId": {"before": before.1, "after": to.storage_region_id},
                    "quotaGb": {"before": before.2, "after": to.quota_gb},
                    "placedByHand": {"before": before.3, "after": true},
                })
            }
            None => {
                if !before.3 {
                    return Ok(PlacementChange::AlreadySo);
                }
                sqlx::query(
                    "UPDATE users SET placement_manual = FALSE, updated_at = $1 WHERE id = $2",
                )
                .bind(StoredTime::now())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                json!({"placedByHand": {"before": true, "after": false}})
            }
        };
        sqlx::query(
            "INSERT INTO provisioning_events (at, customer_id, action, kind, outcome, identity, \
             target_id, changes, user_id, admin_email) \
             SELECT $1, $2, 'place', 'update', 'success', email, scim_id, $3, id, $4 FROM users \
             WHERE id = $5",
        )
        .bind(StoredTime::now())
        .bind(customer_id)
        .bind(changes.to_string())
        .bind(admin_email)
        .bind(user_id)
        .execute(tx)
        .await?;
        Ok(PlacementChange::Changed)
    })
}

/// A user a bulk action takes.
#[derive(Debug, sqlx::FromRow)]
pub struct BulkTarget {
    pub id: i64,
    pub customer_id: i64,
    /// Set while a SCIM resource represents them.
    pub scim_id: Option<String>,
}

/// What a bulk action reads of each user it takes.
pub const BULK_TARGET_COLUMNS: &str =
    "u.id, u.customer_id, CASE WHEN u.scim_deleted THEN NULL ELSE u.scim_id END AS scim_id";

/// The users with these ids that the scope sees, in id order.
pub async fn bulk_targets<'a>(
    conn: impl Into<Executor<'a>>,
    scope: Scope,
    ids: &[i64],
) -> Result<Vec<BulkTarget>, sqlx::Error> {
    let conn = conn.into();
    let listed = match conn.dialect() {
        Dialect::Sqlite => "SELECT value FROM json_each($1)",
        Dialect::Postgres => "SELECT jsonb_array_elements_text($1)::bigint",
    };
    on_backend!(conn, |conn| {
        sqlx::query_as(&format!(
            "SELECT {BULK_TARGET_COLUMNS} FROM users u WHERE u.id IN ({listed}) \
             AND ($2 IS NULL OR u.customer_id = $3) ORDER BY u.id"
        ))
        .bind(Json(ids))
        .bind(scope.customer_id())
        .bind(scope.customer_id())
        .fetch_all(conn)
        .await
    })
}

/// Whether the customer's user with this email was placed by hand.
pub async fn placed_by_hand<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    email: &str,
) -> Result<bool, sqlx::Error> {
    let executor = executor.into();
    let sql = format!(
        "SELECT placement_manual FROM users WHERE customer_id = $1 AND {} = {}",
        executor.dialect().nocase("email"),
        executor.dialect().nocase("$2")
    );
    on_backend!(executor, |executor| {
        let manual: Option<bool> = sqlx::query_scalar(&sql)
            .bind(customer_id)
            .bind(email)
            .fetch_optional(executor)
            .await?;
        Ok(manual.unwrap_or(false))
    })
}

/// Removes a preserved user of the customer for good: their row, group memberships and
/// provisioning history (it holds their personal data). None (and nothing removed) unless they
/// are preserved; else their email.
pub async fn delete_preserved<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    user_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    on_backend!(tx, |tx| {
        let email: Option<String> = sqlx::query_scalar(
            "SELECT email FROM users WHERE id = $1 AND customer_id = $2 AND status = 'Preserved'",
        )
        .bind(user_id)
        .bind(customer_id)
        .fetch_optional(&mut *tx)
        .await?;
        if email.is_none() {
            return Ok(None);
        }
        for sql in [
            "DELETE FROM scim_group_members WHERE user_id = $1",
            "DELETE FROM provisioning_events WHERE user_id = $1",
            "DELETE FROM users WHERE id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        Ok(email)
    })
}
