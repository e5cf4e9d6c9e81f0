//! One user at a time, for the user page: their details, their history, and the changes an
//! admin makes by hand.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use provisio_api::auth::CustomerRef;
use provisio_api::scim::IdentityProvider;
use provisio_api::user::{ManualPlacement, TimelineEntry, UserDetail};
use serde_json::json;
use sqlx::types::Json;
use sqlx::{SqliteConnection, SqliteExecutor};

use super::admins::now_text;
use super::Scope;

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
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
    scim_id: Option<String>,
    scim_deleted: bool,
    scim_user_name: Option<String>,
    external_id: Option<String>,
    scim_attributes: Json<BTreeMap<String, String>>,
}

/// The user with this id, if the scope sees them.
pub async fn detail(
    conn: &mut SqliteConnection,
    scope: Scope,
    id: i64,
) -> Result<Option<UserDetail>, sqlx::Error> {
    let record: Option<DetailRecord> = sqlx::query_as(
        "SELECT u.id, u.customer_id, c.global_id, c.name AS customer_name, u.user_name, u.email, \
         u.status, u.license, p.name AS profile, sr.name AS storage_region, u.quota_gb, \
         m.name AS mapping, u.placement_manual, u.managed_by, u.usage_mb, u.created_at, u.updated_at, u.scim_id, \
         u.scim_deleted, u.scim_user_name, u.external_id, u.scim_attributes \
         FROM users u JOIN customers c ON c.id = u.customer_id \
         JOIN profiles p ON p.id = u.profile_id \
         LEFT JOIN storage_regions sr ON sr.id = u.storage_region_id \
         LEFT JOIN mappings m ON m.id = u.mapping_id \
         WHERE u.id = ? AND (? IS NULL OR u.customer_id = ?)",
    )
    .bind(id)
    .bind(scope.customer_id())
    .bind(scope.customer_id())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = record else {
        return Ok(None);
    };
    let groups: Vec<String> = sqlx::query_scalar(
        "SELECT g.display_name FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id \
         WHERE m.user_id = ? ORDER BY g.display_name COLLATE NOCASE",
    )
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
        updated_at: r.updated_at,
        scim_id: r.scim_id.filter(|_| !r.scim_deleted),
        scim_user_name: r.scim_user_name,
        external_id: r.external_id,
        groups,
        directory: r.scim_attributes.0,
    }))
}

#[derive(sqlx::FromRow)]
struct EventRecord {
    id: i64,
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
pub async fn timeline<'c>(
    executor: impl SqliteExecutor<'c>,
    user_id: i64,
) -> Result<Vec<TimelineEntry>, sqlx::Error> {
    let records: Vec<EventRecord> = sqlx::query_as(
        "SELECT e.id, e.at, e.action, e.outcome, e.admin_email, t.name AS token_name, \
         t.identity_provider, e.changes, e.error FROM provisioning_events e \
         LEFT JOIN scim_tokens t ON t.id = e.token_id \
         WHERE e.user_id = ? ORDER BY e.id DESC LIMIT ?",
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
}

/// Preserves (`preserve`) or restores a user of the customer by an admin's hand, with its
/// provisioning event, in the caller's transaction; the status before, or None when the user
/// already had the status asked for (nothing is written then).
pub async fn set_preserved(
    tx: &mut SqliteConnection,
    customer_id: i64,
    user_id: i64,
    preserve: bool,
    admin_email: &str,
) -> Result<Option<String>, sqlx::Error> {
    let (status, license, action) = if preserve {
        ("Preserved", "preserved", "preserve")
    } else {
        ("Active", "active", "restore")
    };
    let before: Option<String> =
        sqlx::query_scalar("SELECT status FROM users WHERE id = ? AND customer_id = ?")
            .bind(user_id)
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(before) = before.filter(|before| before != status) else {
        return Ok(None);
    };
    // Conditional on what was read, though the write transaction already holds the writer.
    sqlx::query(
        "UPDATE users SET status = ?, license = ?, updated_at = ?, version = version + 1 \
         WHERE id = ? AND status = ?",
    )
    .bind(status)
    .bind(license)
    .bind(now_text())
    .bind(user_id)
    .bind(&before)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO provisioning_events (at, customer_id, action, kind, outcome, identity, \
         target_id, changes, user_id, admin_email) \
         SELECT ?, ?, ?, ?, 'success', email, scim_id, ?, id, ? FROM users WHERE id = ?",
    )
    .bind(now_text())
    .bind(customer_id)
    .bind(action)
    .bind(super::provisioning::kind_of(action).key())
    .bind(json!({"status": {"before": before, "after": status}}).to_string())
    .bind(admin_email)
    .bind(user_id)
    .execute(tx)
    .await?;
    Ok(Some(before))
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
pub async fn set_manual_placement(
    tx: &mut SqliteConnection,
    customer_id: i64,
    user_id: i64,
    placement: Option<&ManualPlacement>,
    admin_email: &str,
) -> Result<PlacementChange, sqlx::Error> {
    let before: (i64, Option<i64>, Option<i64>, bool) = sqlx::query_as(
        "SELECT profile_id, storage_region_id, quota_gb, placement_manual FROM users \
         WHERE id = ? AND customer_id = ?",
    )
    .bind(user_id)
    .bind(customer_id)
    .fetch_one(&mut *tx)
    .await?;
    let changes = match placement {
        Some(to) => {
            let owned: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM profiles WHERE id = ? AND customer_id = ?) \
                      + (SELECT COUNT(*) FROM storage_regions WHERE id = ? AND customer_id = ?)",
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
                "UPDATE users SET profile_id = ?, storage_region_id = ?, quota_gb = ?, \
                 mapping_id = NULL, placement_manual = 1, updated_at = ? WHERE id = ?",
            )
            .bind(to.profile_id)
            .bind(to.storage_region_id)
            .bind(to.quota_gb)
            .bind(now_text())
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
            sqlx::query("UPDATE users SET placement_manual = 0, updated_at = ? WHERE id = ?")
                .bind(now_text())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            json!({"placedByHand": {"before": true, "after": false}})
        }
    };
    sqlx::query(
        "INSERT INTO provisioning_events (at, customer_id, action, kind, outcome, identity, \
         target_id, changes, user_id, admin_email) \
         SELECT ?, ?, 'place', 'update', 'success', email, scim_id, ?, id, ? FROM users \
         WHERE id = ?",
    )
    .bind(now_text())
    .bind(customer_id)
    .bind(changes.to_string())
    .bind(admin_email)
    .bind(user_id)
    .execute(tx)
    .await?;
    Ok(PlacementChange::Changed)
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
pub async fn bulk_targets(
    conn: &mut SqliteConnection,
    scope: Scope,
    ids: &[i64],
) -> Result<Vec<BulkTarget>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {BULK_TARGET_COLUMNS} FROM users u WHERE u.id IN (SELECT value FROM json_each(?)) \
         AND (? IS NULL OR u.customer_id = ?) ORDER BY u.id"
    ))
    .bind(Json(ids))
    .bind(scope.customer_id())
    .bind(scope.customer_id())
    .fetch_all(conn)
    .await
}

/// Whether the customer's user with this email was placed by hand.
pub async fn placed_by_hand<'c>(
    executor: impl SqliteExecutor<'c>,
    customer_id: i64,
    email: &str,
) -> Result<bool, sqlx::Error> {
    let manual: Option<bool> = sqlx::query_scalar(
        "SELECT placement_manual FROM users WHERE customer_id = ? AND email = ? COLLATE NOCASE",
    )
    .bind(customer_id)
    .bind(email)
    .fetch_optional(executor)
    .await?;
    Ok(manual.unwrap_or(false))
}

/// Removes a preserved user of the customer for good: their row, group memberships and
/// provisioning history (it holds their personal data). None (and nothing removed) unless they
/// are preserved; else their email.
pub async fn delete_preserved(
    tx: &mut SqliteConnection,
    customer_id: i64,
    user_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let email: Option<String> = sqlx::query_scalar(
        "SELECT email FROM users WHERE id = ? AND customer_id = ? AND status = 'Preserved'",
    )
    .bind(user_id)
    .bind(customer_id)
    .fetch_optional(&mut *tx)
    .await?;
    if email.is_none() {
        return Ok(None);
    }
    for sql in [
        "DELETE FROM scim_group_members WHERE user_id = ?",
        "DELETE FROM provisioning_events WHERE user_id = ?",
        "DELETE FROM users WHERE id = ?",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
    }
    Ok(email)
}
