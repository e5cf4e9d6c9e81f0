//! Users as SCIM sees them: one customer's users that a SCIM client created, by SCIM id.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::provisioning::Change;
use super::scim_filter::{Condition, Listing};
use super::time::StoredTime;
use super::{on_backend, Executor, Pool};

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
    #[sqlx(try_from = "StoredTime")]
    created_at: DateTime<Utc>,
    updated_at: Option<StoredTime>,
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
            updated_at: r.updated_at.map_or(r.created_at, DateTime::from),
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
    live: "u.scim_id IS NOT NULL AND NOT u.scim_deleted",
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
    let (records, total): (Vec<UserRecord>, i64) = USERS
        .page(pool, customer_id, condition, start_index, count)
        .await?;
    Ok((records.into_iter().map(ScimUser::from).collect(), total))
}

pub async fn find<'a>(
    executor: impl Into<Executor<'a>>,
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
pub async fn taken<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    fields: &UserFields,
    except_scim_id: Option<&str>,
) -> Result<Option<&'static str>, sqlx::Error> {
    let executor = executor.into();
    let nocase = |expression| executor.dialect().nocase(expression);
    let sql = format!(
        "SELECT {name} = {name_given} AND NOT scim_deleted FROM users \
         WHERE customer_id = $2 AND scim_id IS DISTINCT FROM $3 AND \
         (({name} = {name_given} AND NOT scim_deleted) OR {email} = {email_given}) \
         ORDER BY 1 DESC LIMIT 1",
        name = nocase("scim_user_name"),
        name_given = nocase("$1"),
        email = nocase("email"),
        email_given = nocase("$4"),
    );
    let clash: Option<bool> = on_backend!(executor, |connection| sqlx::query_scalar(&sql)
        .bind(&fields.user_name)
        .bind(customer_id)
        .bind(except_scim_id)
        .bind(&fields.email)
        .fetch_optional(connection)
        .await?);
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
pub async fn claimable<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    fields: &UserFields,
) -> Result<Option<Claimable>, sqlx::Error> {
    let executor = executor.into();
    let nocase = |expression| executor.dialect().nocase(expression);
    // Two lookups, each on its own index, rather than one OR that would scan the customer.
    let not_live = "SELECT id, scim_id, managed_by FROM users WHERE customer_id = $1 \
         AND NOT (scim_id IS NOT NULL AND NOT scim_deleted) AND ";
    let by_email = format!("{not_live}{} = {} LIMIT 1", nocase("email"), nocase("$2"));
    let by_name = format!(
        "{not_live}scim_user_name IS NOT NULL AND {} = {} ORDER BY id LIMIT 1",
        nocase("scim_user_name"),
        nocase("$2")
    );
    on_backend!(executor, |connection| {
        let found: Option<Claimable> = sqlx::query_as(&by_email)
            .bind(customer_id)
            .bind(&fields.email)
            .fetch_optional(&mut *connection)
            .await?;
        match found {
            Some(found) => Ok(Some(found)),
            None => {
                sqlx::query_as(&by_name)
                    .bind(customer_id)
                    .bind(&fields.user_name)
                    .fetch_optional(connection)
                    .await
            }
        }
    })
}

/// Makes `claimed` a live SCIM resource again (or for the first time) with `fields`, managed
/// by `managed_by`, keeping their data and creation date; under a new SCIM id, so an id the
/// identity provider deleted stays gone. Logs `change` with it, in the caller's transaction.
pub async fn relink<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    claimed: &Claimable,
    fields: &UserFields,
    managed_by: &str,
    change: &Change<'_>,
) -> Result<ScimUser, sqlx::Error> {
    let scim_id = uuid::Uuid::new_v4().to_string();
    let now = StoredTime::now();
    let sql = format!(
        "UPDATE users SET {SET_FIELDS}, managed_by = $14, scim_id = $15, scim_deleted = FALSE \
         WHERE id = $16 AND customer_id = $17 RETURNING created_at, version"
    );
    let (created_at, version) = on_backend!(tx, |connection| {
        let (created_at, version): (StoredTime, i64) =
            bind_fields!(sqlx::query_as(&sql), fields, now)
                .bind(managed_by)
                .bind(&scim_id)
                .bind(claimed.id)
                .bind(customer_id)
                .fetch_one(&mut *connection)
                .await?;
        change.record(connection, customer_id, &scim_id).await?;
        (created_at, version)
    });
    Ok(ScimUser {
        scim_id,
        fields: fields.clone(),
        created_at: created_at.into(),
        updated_at: now.into(),
        version,
    })
}

/// What a SCIM write sets on a user's row, bound by `bind_fields!` as $1 to $13.
const SET_FIELDS: &str = "user_name = $1, email = $2, status = $3, license = $4, \
     scim_user_name = $5, external_id = $6, given_name = $7, family_name = $8, \
     scim_display_name = $9, email_type = $10, email_primary = $11, scim_attributes = $12, \
     updated_at = $13, version = version + 1";

/// Binds the thirteen values of `SET_FIELDS` to `$query`.
macro_rules! bind_fields {
    ($query:expr, $fields:expr, $now:expr) => {{
        let fields: &UserFields = $fields;
        let (status, license) = status_and_license(fields.active);
        $query
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
            .bind($now)
    }};
}
use bind_fields;

fn status_and_license(active: bool) -> (&'static str, &'static str) {
    if active {
        ("Active", "active")
    } else {
        ("Preserved", "preserved")
    }
}

/// Creates a user for the customer, on its first backup profile, managed by `managed_by`,
/// and logs `change` with it, in the caller's transaction.
pub async fn insert<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    fields: &UserFields,
    managed_by: &str,
    change: &Change<'_>,
) -> Result<ScimUser, sqlx::Error> {
    let scim_id = uuid::Uuid::new_v4().to_string();
    let (status, license) = status_and_license(fields.active);
    let now = StoredTime::now();
    on_backend!(tx, |connection| {
        let profile: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM profiles WHERE customer_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(customer_id)
        .fetch_optional(&mut *connection)
        .await?;
        let profile: i64 =
            match profile {
                Some(id) => id,
                None => sqlx::query_scalar(
                    "INSERT INTO profiles (customer_id, name) VALUES ($1, 'Default') RETURNING id",
                )
                .bind(customer_id)
                .fetch_one(&mut *connection)
                .await?,
            };
        sqlx::query(
            "INSERT INTO users (customer_id, user_name, email, profile_id, status, license, \
             created_at, managed_by, scim_id, scim_user_name, external_id, given_name, \
             family_name, updated_at, scim_display_name, email_type, email_primary, \
             scim_attributes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $7, $14, $15, \
             $16, $17)",
        )
        .bind(customer_id)
        .bind(fields.report_name())
        .bind(&fields.email)
        .bind(profile)
        .bind(status)
        .bind(license)
        .bind(now)
        .bind(managed_by)
        .bind(&scim_id)
        .bind(&fields.user_name)
        .bind(&fields.external_id)
        .bind(&fields.given_name)
        .bind(&fields.family_name)
        .bind(&fields.display_name)
        .bind(&fields.email_type)
        .bind(fields.email_primary)
        .bind(Json(&fields.directory))
        .execute(&mut *connection)
        .await?;
        change.record(connection, customer_id, &scim_id).await?;
    });
    Ok(ScimUser {
        scim_id,
        fields: fields.clone(),
        created_at: now.into(),
        updated_at: now.into(),
        version: 1,
    })
}

/// Replaces the SCIM attributes of a live user (`active` preserves or restores it) and logs
/// `change` with it, in the caller's transaction; only while the user is still at `version`
/// (None otherwise, and nothing is written).
pub async fn update<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    fields: &UserFields,
    change: &Change<'_>,
) -> Result<Option<ScimUser>, sqlx::Error> {
    let now = StoredTime::now();
    let sql = format!(
        "UPDATE users SET {SET_FIELDS} \
         WHERE customer_id = $14 AND scim_id = $15 AND NOT scim_deleted AND version = $16 \
         RETURNING created_at, version"
    );
    let stored: Option<(StoredTime, i64)> = on_backend!(tx, |connection| {
        let stored: Option<(StoredTime, i64)> = bind_fields!(sqlx::query_as(&sql), fields, now)
            .bind(customer_id)
            .bind(scim_id)
            .bind(version)
            .fetch_optional(&mut *connection)
            .await?;
        if stored.is_some() {
            change.record(connection, customer_id, scim_id).await?;
        }
        stored
    });
    Ok(stored.map(|(created_at, version)| ScimUser {
        scim_id: scim_id.to_owned(),
        fields: fields.clone(),
        created_at: created_at.into(),
        updated_at: now.into(),
        version,
    }))
}

/// Ends the SCIM resource but keeps the user and their data in Provisio, preserved; logs
/// `change` with it, in the caller's transaction; only while the user is still at `version`.
pub async fn delete<'a>(
    tx: impl Into<Executor<'a>>,
    customer_id: i64,
    scim_id: &str,
    version: i64,
    change: &Change<'_>,
) -> Result<bool, sqlx::Error> {
    on_backend!(tx, |connection| {
        let done = sqlx::query(
            "UPDATE users SET scim_deleted = TRUE, status = 'Preserved', \
             license = 'preserved', updated_at = $1, version = version + 1 \
             WHERE customer_id = $2 AND scim_id = $3 AND NOT scim_deleted AND version = $4",
        )
        .bind(StoredTime::now())
        .bind(customer_id)
        .bind(scim_id)
        .bind(version)
        .execute(&mut *connection)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        change.record(connection, customer_id, scim_id).await?;
    });
    Ok(true)
}
