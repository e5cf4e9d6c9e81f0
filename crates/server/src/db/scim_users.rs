//! Users as SCIM sees them: one customer's users that a SCIM client created, by SCIM id.

use super::Pool;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{SqliteConnection, SqliteExecutor};

use super::admins::now_text;
use super::provisioning::Change;
use super::scim_filter::{Condition, Listing};

/// Where a directory attribute lives in a SCIM User resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// The core User schema, at the top level.
    Core,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    Enterprise,
    /// The work address (`addresses[type eq "work"]`).
    WorkAddress,
}

/// The directory attributes Provisio keeps, by their SCIM names, for mappings to match on.
pub const DIRECTORY_ATTRIBUTES: [(&str, Home); 11] = [
    ("department", Home::Enterprise),
    ("title", Home::Core),
    ("userType", Home::Core),
    ("employeeNumber", Home::Enterprise),
    ("costCenter", Home::Enterprise),
    ("organization", Home::Enterprise),
    ("division", Home::Enterprise),
    ("locality", Home::WorkAddress),
    ("region", Home::WorkAddress),
    ("country", Home::WorkAddress),
    ("preferredLanguage", Home::Core),
];

/// A directory attribute's SCIM name, whatever its case.
pub fn directory_attribute(name: &str) -> Option<(&'static str, Home)> {
    DIRECTORY_ATTRIBUTES
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
}

/// A user's directory attributes by SCIM name; absent ones are not in the map.
pub type Directory = std::collections::BTreeMap<String, String>;

/// The SCIM attributes Provisio keeps for a user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserFields {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub email: String,
    /// The email's `type` (`work` unless the IdP says otherwise).
    pub email_type: Option<String>,
    /// The email's `primary` flag (true unless the IdP says otherwise).
    pub email_primary: Option<bool>,
    pub active: bool,
    pub directory: Directory,
}

impl UserFields {
    /// The report's "User Name": the display name, else given and family name, else userName.
    pub fn report_name(&self) -> String {
        if let Some(display) = self.display_name.as_ref().filter(|d| !d.trim().is_empty()) {
            return display.clone();
        }
        let full = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if full.trim().is_empty() {
            self.user_name.clone()
        } else {
            full
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScimUser {
    pub scim_id: String,
    pub fields: UserFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct UserRecord {
    scim_id: String,
    scim_user_name: String,
    external_id: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    scim_display_name: Option<String>,
    email: String,
    email_type: Option<String>,
    email_primary: Option<bool>,
    scim_attributes: Json<Directory>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
    version: i64,
}

impl From<UserRecord> for ScimUser {
    fn from(r: UserRecord) -> Self {
        ScimUser {
            scim_id: r.scim_id,
            fields: UserFields {
                user_name: r.scim_user_name,
                external_id: r.external_id,
                given_name: r.given_name,
                family_name: r.family_name,
                display_name: r.scim_display_name,
                email: r.email,
                email_type: r.email_type,
                email_primary: r.email_primary,
                active: r.status != "Preserved",
                directory: r.scim_attributes.0,
            },
            updated_at: r.updated_at.unwrap_or(r.created_at),
            created_at: r.created_at,
            version: r.version,
        }
    }
}

const SELECT_USERS: &str = "SELECT scim_id, scim_user_name, external_id, given_name, family_name, \
     scim_display_name, email, email_type, email_primary, scim_attributes, status, created_at, \
     updated_at, version \
     FROM users u";

const USERS: Listing = Listing {
    select: SELECT_USERS,
    from: "FROM users u",
    customer: "u.customer_id",
    live: "u.scim_id IS NOT NULL AND u.scim_deleted = 0",
    order: "u.id",
};

/// One page (1-based `start_index`) of the customer's SCIM users, in creation order, and the total.
pub async fn list(
    pool: &Pool,
    customer_id: i64,
    condition: Option<&Condition>,
    start_index: i64,
    count: i64,
) -> Result<(Vec<ScimUser>, i64), sqlx::Error> {
    let pool = pool.sqlite()?;
    let (records, total): (Vec<UserRecord>, i64) = USERS
        .page(pool, customer_id, condition, start_index, count)
        .await?;
    Ok((records.into_iter().map(ScimUser::from).collect(), total))
}

pub async fn find<'c>(
    executor: impl SqliteExecutor<'c>,
    customer_id: i64,
    scim_id: &str,
) -> Result<Option<ScimUser>, sqlx::Error> {
    let record: Option<UserRecord> = USERS
        .find(executor, customer_id, "u.scim_id", scim_id)
        .await?;
    Ok(record.map(ScimUser::from))
}

/// Whether another live SCIM user of the customer has this userName or email (one query:
/// each side uses its unique index).
pub async fn taken<'c>(
    executor: impl SqliteExecutor<'c>,
    customer_id: i64,
    fields: &UserFields,
    except_scim_id: Option<&str>,
) -> Result<Option<&'static str>, sqlx::Error> {
    let clash: Option<bool> = sqlx::query_scalar(
        "SELECT scim_user_name = ? COLLATE NOCASE AND scim_deleted = 0 FROM users \
         WHERE customer_id = ? AND scim_id IS NOT ? AND \
         ((scim_user_name = ? COLLATE NOCASE AND scim_deleted = 0) OR email = ? COLLATE NOCASE) \
         ORDER BY 1 DESC LIMIT 1",
    )
    .bind(&fields.user_name)
    .bind(customer_id)
    .bind(except_scim_id)
    .bind(&fields.user_name)
    .bind(&fields.email)
    .fetch_optional(executor)
    .await?;
    Ok(clash.map(|by_name| if by_name { "userName" } else { "emails" }))
}

/// A user of the customer a SCIM create may take over instead of adding one: a user SCIM
/// deleted (preserved), or one Provisio holds from elsewhere (AD/LDAP, added by hand).
#[derive(Debug, sqlx::FromRow)]
pub struct Claimable {
    pub id: i64,
    /// Set when SCIM deleted them; None when SCIM never managed them.
    pub scim_id: Option<String>,
    pub managed_by: String,
}

/// The customer's user a create of `fields` matches by email or userName (case-insensitive),
/// unless a live SCIM resource holds them: the create's uniqueness check answers for those.
/// An email match wins over a userName match.
pub async fn claimable(
    conn: &mut SqliteConnection,
    customer_id: i64,
    fields: &UserFields,
) -> Result<Option<Claimable>, sqlx::Error> {
    // Two lookups, each on its own index, rather than one OR that would scan the customer.
    const NOT_LIVE: &str = "SELECT id, scim_id, managed_by FROM users WHERE customer_id = ? \
         AND NOT (scim_id IS NOT NULL AND scim_deleted = 0) AND ";
    let by_email: Option<Claimable> =
        sqlx::query_as(&format!("{NOT_LIVE}email = ? COLLATE NOCASE LIMIT 1"))
            .bind(customer_id)
            .bind(&fields.email)
            .fetch_optional(&mut *conn)
            .await?;
    if by_email.is_some() {
        return Ok(by_email);
    }
    sqlx::query_as(&format!(
        "{NOT_LIVE}scim_user_name IS NOT NULL AND scim_user_name = ? COLLATE NOCASE \
         ORDER BY id LIMIT 1"
    ))
    .bind(customer_id)
    .bind(&fields.user_name)
    .fetch_optional(conn)
    .await
}

/// Makes `claimed` a live SCIM resource again (or for the first time) with `fields`, managed
/// by `managed_by`, keeping their data and creation date; under a new SCIM id, so an id the
/// identity provider deleted stays gone. Logs `change` with it, in the caller's transaction.
pub async fn relink(
    tx: &mut SqliteConnection,
    customer_id: i64,
    claimed: &Claimable,
    fields: &UserFields,
    managed_by: &str,
    change: &Change<'_>,
) -> Result<ScimUser, sqlx::Error> {
    let scim_id = uuid::Uuid::new_v4().to_string();
    let now = now_text();
    let (created_at, version): (DateTime<Utc>, i64) = bind_fields(
        sqlx::query_as(&format!(
            "UPDATE users SET {SET_FIELDS}, managed_by = ?, scim_id = ?, scim_deleted = 0 \
             WHERE id = ? AND customer_id = ? RETURNING created_at, version"
        )),
        fields,
        &now,
    )
    .bind(managed_by)
    .bind(&scim_id)
    .bind(claimed.id)
    .bind(customer_id)
    .fetch_one(&mut *tx)
    .await?;
    change.record(tx, customer_id, &scim_id).await?;
    Ok(ScimUser {
        scim_id,
        fields: fields.clone(),
        created_at,
        updated_at: parse_time(&now),
        version,
    })
}

/// What a SCIM write sets on a user's row, bound by `bind_fields` in this order.
const SET_FIELDS: &str = "user_name = ?, email = ?, status = ?, license = ?, \
     scim_user_name = ?, external_id = ?, given_name = ?, family_name = ?, \
     scim_display_name = ?, email_type = ?, email_primary = ?, scim_attributes = ?, \
     updated_at = ?, version = version + 1";

fn bind_fields<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>>,
    fields: &'q UserFields,
    now: &'q str,
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>> {
    let (status, license) = status_and_license(fields.active);
    query
        .bind(fields.report_name())
        .bind(&fields.email)
        .bind(status)
        .bind(license)
        .bind(&fields.user_name)
        .bind(&fields.external_id)
        .bind(&fields.given_name)
        .bind(&fields.family_name)
        .bind(&fields.display_name)
        .bind(&fields.email_type)
        .bind(fields.email_primary)
        .bind(Json(&fields.directory))
        .bind(now)
}

fn status_and_license(active: bool) -> (&'static str, &'static str) {
    if active {
        ("Active", "active")
    } else {
        ("Preserved", "preserved")
    }
}

/// Creates a user for the customer, on its first backup profile, managed by `managed_by`,
/// and logs `change` with it, in the caller's transaction.
pub async fn insert(
    tx: &mut SqliteConnection,
    customer_id: i64,
    fields: &UserFields,
    managed_by: &str,
    change: &Change<'_>,
) -> Result<ScimUser, sqlx::Error> {
    let profile: Option<i64> =
        sqlx::query_scalar("SELECT id FROM profiles WHERE customer_id = ? ORDER BY id LIMIT 1")
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?;
    let profile = match profile {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO profiles (customer_id, name) VALUES (?, 'Default') RETURNING id",
            )
            .bind(customer_id)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    let scim_id = uuid::Uuid::new_v4().to_string();
    let (status, license) = status_and_license(fields.active);
    let now = now_text();
    sqlx::query(
        "INSERT INTO users (customer_id, user_name, email, profile_id, status, license, created_at, \
         managed_by, scim_id, scim_user_name, external_id, given_name, family_name, updated_at, \
         scim_display_name, email_type, email_primary, scim_attributes) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(customer_id)
    .bind(fields.report_name())
    .bind(&fields.email)
    .bind(profile)
    .bind(status)
    .bind(license)
    .bind(&now)
    .bind(managed_by)
    .bind(&scim_id)
    .bind(&fields.user_name)
    .bind(&fields.external_id)
    .bind(&fields.given_name)
    .bind(&fields.family_name)
    .bind(&now)
    .bind(&fields.display_name)
    .bind(&fields.email_type)
    .bind(fields.email_primary)
    .bind(Json(&fields.directory))
    .execute(&mut *tx)
    .await?;
    change.record(tx, customer_id, &scim_id).await?;
    let at = parse_time(&now);
    Ok(ScimUser {
        scim_id,
        fields: fields.clone(),
        created_at: at,
        updated_at: at,
        version: 1,
    })
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}

/// Replaces the SCIM attributes of a live user (`active` preserves or restores it) and logs
/// `change` with it, in the caller's transaction; only while the user is still at `version`
/// (None otherwise, and nothing is written).
pub async fn update(
    tx: &mut SqliteConnection,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    fields: &UserFields,
    change: &Change<'_>,
) -> Result<Option<ScimUser>, sqlx::Error> {
    let now = now_text();
    let stored: Option<(DateTime<Utc>, i64)> = bind_fields(
        sqlx::query_as(&format!(
            "UPDATE users SET {SET_FIELDS} \
             WHERE customer_id = ? AND scim_id = ? AND scim_deleted = 0 AND version = ? \
             RETURNING created_at, version"
        )),
        fields,
        &now,
    )
    .bind(customer_id)
    .bind(scim_id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((created_at, version)) = stored else {
        return Ok(None);
    };
    change.record(tx, customer_id, scim_id).await?;
    Ok(Some(ScimUser {
        scim_id: scim_id.to_owned(),
        fields: fields.clone(),
        created_at,
        updated_at: parse_time(&now),
        version,
    }))
}

/// Ends the SCIM resource but keeps the user and their data in Provisio, preserved; logs
/// `change` with it, in the caller's transaction; only while the user is still at `version`.
pub async fn delete(
    tx: &mut SqliteConnection,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    change: &Change<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET scim_deleted = 1, status = 'Preserved', license = 'preserved', \
         updated_at = ?, version = version + 1 \
         WHERE customer_id = ? AND scim_id = ? AND scim_deleted = 0 AND version = ?",
    )
    .bind(now_text())
    .bind(customer_id)
    .bind(scim_id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    change.record(tx, customer_id, scim_id).await?;
    Ok(true)
}
