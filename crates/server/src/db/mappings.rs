//! Provisioning mappings of a customer, and the placement of its SCIM users by them.
//!
//! Placement is written in the caller's transaction: with the SCIM change that prompted it,
//! or with the mapping change that re-evaluates the customer's users.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use provisio_api::mapping::{
    Choice, GroupChoice, JobState, Mapping, MappingJob, MappingOptions, MappingPreview, Matcher,
    PreviewChange, SaveMappingRequest, MATCHABLE_ATTRIBUTES,
};
use serde_json::json;
use sqlx::types::Json;
use sqlx::{Connection, QueryBuilder};

use super::scim_users::Directory;
use super::time::StoredTime;
use super::{on_backend, Dialect, Engine, Executor, Pool};
use crate::placement::{self, Rule, Subject};

#[derive(sqlx::FromRow)]
struct MappingRecord {
    id: i64,
    position: i64,
    name: String,
    enabled: bool,
    matcher: Json<Matcher>,
    profile_id: i64,
    profile_name: String,
    storage_region_id: i64,
    storage_region_name: String,
    quota_gb: Option<i64>,
    users: i64,
    #[sqlx(try_from = "StoredTime")]
    updated_at: DateTime<Utc>,
}

const SELECT_MAPPINGS: &str = "SELECT m.id, m.position, m.name, m.enabled, m.matcher, \
     m.profile_id, p.name AS profile_name, m.storage_region_id, r.name AS storage_region_name, \
     m.quota_gb, (SELECT COUNT(*) FROM users u WHERE u.mapping_id = m.id) AS users, m.updated_at \
     FROM mappings m JOIN profiles p ON p.id = m.profile_id \
     JOIN storage_regions r ON r.id = m.storage_region_id";

/// The customer's mappings, highest priority first.
pub async fn list<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<Vec<Mapping>, sqlx::Error> {
    on_backend!(executor, |executor| {
        let records: Vec<MappingRecord> = sqlx::query_as(&format!(
            "{SELECT_MAPPINGS} WHERE m.customer_id = $1 ORDER BY m.position, m.id"
        ))
        .bind(customer_id)
        .fetch_all(executor)
        .await?;
        Ok(records.into_iter().map(into_mapping).collect())
    })
}

fn into_mapping(r: MappingRecord) -> Mapping {
    let Json(matcher) = r.matcher;
    Mapping {
        id: r.id,
        priority: u32::try_from(r.position).unwrap_or(u32::MAX),
        matches_text: matcher.describe(str::to_owned),
        name: r.name,
        matcher,
        profile_id: r.profile_id,
        profile_name: r.profile_name,
        storage_region_id: r.storage_region_id,
        storage_region_name: r.storage_region_name,
        quota_gb: r.quota_gb.and_then(|q| u32::try_from(q).ok()),
        enabled: r.enabled,
        users: u64::try_from(r.users).unwrap_or(0),
        updated_at: r.updated_at,
    }
}

/// The ids of the customer's mappings (without counting their users, as `list` does).
pub async fn ids<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    on_backend!(executor, |executor| {
        sqlx::query_scalar("SELECT id FROM mappings WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_all(executor)
            .await
    })
}

/// Names of the customer's SCIM groups by SCIM id, for describing group mappings.
pub async fn group_names<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<HashMap<String, String>, sqlx::Error> {
    on_backend!(executor, |executor| {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT scim_id, display_name FROM scim_groups WHERE customer_id = $1")
                .bind(customer_id)
                .fetch_all(executor)
                .await?;
        Ok(rows.into_iter().collect())
    })
}

/// What the editor offers for the customer: its profiles, regions and SCIM groups (with
/// their member counts), the attributes to match on, and its region-move threshold.
pub async fn options<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<MappingOptions, sqlx::Error> {
    let conn = conn.into();
    let dialect = conn.dialect();
    on_backend!(conn, |conn| {
        let choices = |table: &str| {
            format!(
                "SELECT id, name FROM {table} WHERE customer_id = $1 ORDER BY {}, id",
                dialect.nocase("name")
            )
        };
        let profiles: Vec<(i64, String)> = sqlx::query_as(&choices("profiles"))
            .bind(customer_id)
            .fetch_all(&mut *conn)
            .await?;
        let regions: Vec<(i64, String)> = sqlx::query_as(&choices("storage_regions"))
            .bind(customer_id)
            .fetch_all(&mut *conn)
            .await?;
        let groups: Vec<(String, String, i64)> = sqlx::query_as(&format!(
            "SELECT g.scim_id, g.display_name, \
             (SELECT COUNT(*) FROM scim_group_members m WHERE m.group_id = g.id) \
             FROM scim_groups g WHERE g.customer_id = $1 ORDER BY {}, g.id",
            dialect.nocase("g.display_name")
        ))
        .bind(customer_id)
        .fetch_all(&mut *conn)
        .await?;
        let threshold: i64 =
            sqlx::query_scalar("SELECT region_move_threshold FROM customers WHERE id = $1")
                .bind(customer_id)
                .fetch_one(&mut *conn)
                .await?;
        let custom_attribute_name: Option<String> = sqlx::query_scalar(
            "SELECT custom_attribute_name FROM users WHERE customer_id = $1 \
             AND custom_attribute_name <> '' LIMIT 1",
        )
        .bind(customer_id)
        .fetch_optional(conn)
        .await?;
        let choice = |(id, name): (i64, String)| Choice { id, name };
        Ok(MappingOptions {
            profiles: profiles.into_iter().map(choice).collect(),
            storage_regions: regions.into_iter().map(choice).collect(),
            groups: groups
                .into_iter()
                .map(|(id, name, members)| GroupChoice {
                    id,
                    name,
                    members: u64::try_from(members).unwrap_or(0),
                })
                .collect(),
            attributes: MATCHABLE_ATTRIBUTES
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            custom_attribute_name,
            region_move_threshold: u32::try_from(threshold).unwrap_or(u32::MAX),
        })
    })
}

/// Sets the customer's region-move threshold.
pub async fn set_region_move_threshold<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    threshold: u32,
) -> Result<(), sqlx::Error> {
    on_backend!(executor, |executor| {
        sqlx::query("UPDATE customers SET region_move_threshold = $1 WHERE id = $2")
            .bind(i64::from(threshold))
            .bind(customer_id)
            .execute(executor)
            .await?;
        Ok(())
    })
}

/// What of a request is not the customer's: the first unknown profile, region or group.
pub async fn foreign_reference<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
    request: &SaveMappingRequest,
) -> Result<Option<&'static str>, sqlx::Error> {
    on_backend!(conn, |conn| {
        let ids = [
            (
                "profile_id",
                "SELECT COUNT(*) FROM profiles WHERE id = $1 AND customer_id = $2",
                request.profile_id,
            ),
            (
                "storage_region_id",
                "SELECT COUNT(*) FROM storage_regions WHERE id = $1 AND customer_id = $2",
                request.storage_region_id,
            ),
        ];
        for (parameter, sql, id) in ids {
            let found: i64 = sqlx::query_scalar(sql)
                .bind(id)
                .bind(customer_id)
                .fetch_one(&mut *conn)
                .await?;
            if found == 0 {
                return Ok(Some(parameter));
            }
        }
        if let Matcher::Groups { groups } = &request.matcher {
            // One query for all of them: how many distinct ids name a group of the customer.
            let mut sql = QueryBuilder::new(
                "SELECT COUNT(DISTINCT scim_id) FROM scim_groups WHERE customer_id = ",
            );
            sql.push_bind(customer_id);
            sql.push(" AND scim_id IN (");
            let mut list = sql.separated(", ");
            for group in groups {
                list.push_bind(group.clone());
            }
            sql.push(")");
            let found: i64 = sql.build_query_scalar().fetch_one(&mut *conn).await?;
            let distinct: std::collections::HashSet<&String> = groups.iter().collect();
            if usize::try_from(found).unwrap_or(0) != distinct.len() {
                return Ok(Some("matcher"));
            }
        }
        Ok(None)
    })
}

/// Adds a mapping at the lowest priority; its id.
pub async fn insert<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
    request: &SaveMappingRequest,
) -> Result<i64, sqlx::Error> {
    on_backend!(conn, |conn| {
        let now = StoredTime::now();
        sqlx::query_scalar(
            "INSERT INTO mappings (customer_id, position, name, enabled, matcher, profile_id, \
             storage_region_id, quota_gb, created_at, updated_at) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM mappings WHERE customer_id = $2), \
                     $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(customer_id)
        .bind(customer_id)
        .bind(&request.name)
        .bind(request.enabled)
        .bind(Json(&request.matcher))
        .bind(request.profile_id)
        .bind(request.storage_region_id)
        .bind(request.quota_gb.map(i64::from))
        .bind(now)
        .bind(now)
        .fetch_one(conn)
        .await
    })
}

/// Replaces a mapping of the customer; false when it has no such mapping.
pub async fn update<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
    id: i64,
    request: &SaveMappingRequest,
) -> Result<bool, sqlx::Error> {
    on_backend!(conn, |conn| {
        let done = sqlx::query(
            "UPDATE mappings SET name = $1, enabled = $2, matcher = $3, profile_id = $4, \
             storage_region_id = $5, quota_gb = $6, updated_at = $7 WHERE id = $8 AND customer_id = $9",
        )
        .bind(&request.name)
        .bind(request.enabled)
        .bind(Json(&request.matcher))
        .bind(request.profile_id)
        .bind(request.storage_region_id)
        .bind(request.quota_gb.map(i64::from))
        .bind(StoredTime::now())
        .bind(id)
        .bind(customer_id)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Deletes a mapping of the customer and closes the gap in the order; false when it has no
/// such mapping. Its users are re-placed by the caller.
pub async fn delete<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    on_backend!(conn, |conn| {
        sqlx::query(
            "UPDATE users SET mapping_id = NULL WHERE mapping_id = $1 AND customer_id = $2",
        )
        .bind(id)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
        let position: Option<i64> = sqlx::query_scalar(
            "DELETE FROM mappings WHERE id = $1 AND customer_id = $2 RETURNING position",
        )
        .bind(id)
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(position) = position else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE mappings SET position = position - 1 WHERE customer_id = $1 AND position > $2",
        )
        .bind(customer_id)
        .bind(position)
        .execute(conn)
        .await?;
        Ok(true)
    })
}

/// Sets the whole order; false (and nothing written) unless `ids` names exactly the
/// customer's mappings, each once.
pub async fn set_order<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
    ids: &[i64],
) -> Result<bool, sqlx::Error> {
    on_backend!(conn, |conn| {
        let mut current: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM mappings WHERE customer_id = $1")
                .bind(customer_id)
                .fetch_all(&mut *conn)
                .await?;
        let mut wanted = ids.to_vec();
        current.sort_unstable();
        wanted.sort_unstable();
        if current != wanted {
            return Ok(false);
        }
        for (position, id) in ids.iter().enumerate() {
            sqlx::query("UPDATE mappings SET position = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::try_from(position).unwrap_or(i64::MAX) + 1)
                .bind(StoredTime::now())
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(true)
    })
}

/// A mapping as placement reads it.
struct PlacingRule {
    rule: Rule,
    profile_id: i64,
    storage_region_id: i64,
    quota_gb: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct RuleRecord {
    id: i64,
    name: String,
    enabled: bool,
    matcher: Json<Matcher>,
    profile_id: i64,
    storage_region_id: i64,
    quota_gb: Option<i64>,
}

async fn rules<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<Vec<PlacingRule>, sqlx::Error> {
    let rows: Vec<RuleRecord> = on_backend!(executor, |connection| sqlx::query_as(
        "SELECT id, name, enabled, matcher, profile_id, storage_region_id, quota_gb \
         FROM mappings WHERE customer_id = $1 ORDER BY position, id",
    )
    .bind(customer_id)
    .fetch_all(connection)
    .await?);
    Ok(rows
        .into_iter()
        .map(|r| PlacingRule {
            rule: Rule {
                id: r.id,
                name: r.name,
                enabled: r.enabled,
                matcher: r.matcher.0,
            },
            profile_id: r.profile_id,
            storage_region_id: r.storage_region_id,
            quota_gb: r.quota_gb,
        })
        .collect())
}

/// A SCIM user as placement reads and writes them: read as one JSON array per user, in the
/// order of `PLACED_JSON`.
#[derive(serde::Deserialize)]
struct PlacedUser {
    id: i64,
    scim_id: String,
    external_id: Option<String>,
    scim_attributes: Directory,
    status: String,
    profile_id: i64,
    storage_region_id: Option<i64>,
    quota_gb: Option<i64>,
    mapping_id: Option<i64>,
}

/// Ends with the customer's id to bind; narrowed by the caller. Users placed by hand
/// (`placement_manual`) are passed by: the mappings never move them.
const SELECT_PLACED: &str = "SELECT id, scim_id, external_id, \
     {DIRECTORY} AS scim_attributes, status, \
     profile_id, storage_region_id, quota_gb, mapping_id FROM users \
     WHERE scim_id IS NOT NULL AND NOT scim_deleted AND NOT placement_manual AND customer_id = ";

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|err| sqlx::Error::Decode(Box::new(err)))
}

/// A placed user as one JSON array, in `PlacedUser`'s field order; without the SCIM id and
/// external id when `identity` is false.
fn placed_json(dialect: Dialect, identity: bool) -> String {
    let (ids, array, attributes) = match dialect {
        Dialect::Sqlite => (
            "scim_id, external_id",
            "json_array",
            "json(scim_attributes)",
        ),
        Dialect::Postgres => (
            "scim_id, external_id",
            "json_build_array",
            "scim_attributes",
        ),
    };
    let ids = if identity { ids } else { "'', NULL" };
    format!(
        "{array}(id, {ids}, {attributes}, status, profile_id, storage_region_id, quota_gb, \
         mapping_id)"
    )
}

/// Rows gathered into one JSON array text (`[]` when there are none).
fn json_rows(dialect: Dialect, element: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("json_group_array({element})"),
        Dialect::Postgres => format!("COALESCE(json_agg({element}), '[]'::json)::text"),
    }
}

/// A user's directory attributes as mappings match them: with the customer's custom attribute
/// (the report's Custom Attribute Value) under `customAttribute`.
fn directory(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "CASE WHEN custom_attribute_value <> '' \
             THEN json_set(scim_attributes, '$.customAttribute', custom_attribute_value) \
             ELSE scim_attributes END"
        }
        Dialect::Postgres => {
            "CASE WHEN custom_attribute_value <> '' \
             THEN jsonb_set(scim_attributes, '{customAttribute}', \
                 to_jsonb(custom_attribute_value)) \
             ELSE scim_attributes END"
        }
    }
}

const SELECT_PLACED_IDS: &str = "SELECT id FROM users \
     WHERE scim_id IS NOT NULL AND NOT scim_deleted AND NOT placement_manual AND customer_id = ";

/// The customer's live SCIM users with the SCIM ids of their groups.
struct Population {
    /// Shared, so the previews' cache brings a population up to date without copying users.
    users: Vec<Arc<PlacedUser>>,
    groups: HashMap<i64, Arc<[String]>>,
}

/// Which of the customer's live SCIM users to read.
#[derive(Clone, Copy)]
enum Selection<'a> {
    All,
    /// Every user, without their SCIM and external ids: what a preview needs, far fewer bytes.
    Whole,
    /// These SCIM ids: a SCIM write reads only the users it touched.
    ScimIds(&'a [String]),
    /// The next `limit` users by row id after `id`: one batch of a re-evaluation.
    After {
        id: i64,
        limit: i64,
    },
    /// Users stamped after this population version, without their SCIM and external ids: what
    /// changed since the previews' cache read the customer.
    ChangedSince(i64),
}

impl Population {
    async fn of<'a>(
        executor: impl Into<Executor<'a>>,
        customer_id: i64,
        selection: Selection<'_>,
    ) -> Result<Population, sqlx::Error> {
        let executor = executor.into();
        let dialect = executor.dialect();
        // The rows arrive as one JSON array: a whole customer (100,000 users and more) crosses
        // from SQLite in one value rather than row by row, several times faster.
        let identity = !matches!(selection, Selection::Whole | Selection::ChangedSince(_));
        let users_query = format!(
            "SELECT {} FROM ({}",
            json_rows(dialect, &placed_json(dialect, identity)),
            SELECT_PLACED.replace("{DIRECTORY}", directory(dialect))
        );
        let (text, groups) = on_backend!(executor, |connection| {
            let mut users_sql = QueryBuilder::new(&users_query);
            Engine::bind_i64(&mut users_sql, customer_id);
            match selection {
                Selection::All | Selection::Whole => {}
                Selection::ScimIds(ids) => {
                    users_sql.push(" AND scim_id IN (");
                    Engine::bind_texts(&mut users_sql, ids);
                    users_sql.push(")");
                }
                Selection::After { id, limit } => {
                    users_sql.push(" AND id > ");
                    Engine::bind_i64(&mut users_sql, id);
                    users_sql.push(" ORDER BY id LIMIT ");
                    Engine::bind_i64(&mut users_sql, limit);
                }
                Selection::ChangedSince(version) => {
                    users_sql.push(" AND population_stamp > ");
                    Engine::bind_i64(&mut users_sql, version);
                }
            }
            users_sql.push(") placed");
            let text: String = users_sql
                .build_query_scalar()
                .fetch_one(&mut *connection)
                .await?;
            let users: Vec<PlacedUser> = from_json(&text)?;
            let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
            let groups = Population::memberships(connection, customer_id, selection, &ids).await?;
            (users, groups)
        });
        let mut users: Vec<Arc<PlacedUser>> = text.into_iter().map(Arc::new).collect();
        // By row id, whichever index the query walked: samples and batches follow this order.
        users.sort_unstable_by_key(|u| u.id);
        Ok(Population { users, groups })
    }

    /// The SCIM ids of the groups of exactly these users, on the members' user index; the whole
    /// customer's in one pass when every user is read.
    async fn memberships<'a>(
        executor: impl Into<Executor<'a>>,
        customer_id: i64,
        selection: Selection<'_>,
        users: &[i64],
    ) -> Result<HashMap<i64, Arc<[String]>>, sqlx::Error> {
        let executor = executor.into();
        let dialect = executor.dialect();
        let pair = match dialect {
            Dialect::Sqlite => "json_array(m.user_id, g.scim_id)",
            Dialect::Postgres => "json_build_array(m.user_id, g.scim_id)",
        };
        let query = format!(
            "SELECT {} FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id WHERE ",
            json_rows(dialect, pair)
        );
        if users.is_empty() && !matches!(selection, Selection::All | Selection::Whole) {
            return Ok(HashMap::new());
        }
        let text: String = on_backend!(executor, |connection| {
            let mut memberships_sql = QueryBuilder::new(&query);
            match selection {
                Selection::All | Selection::Whole => {
                    memberships_sql.push("g.customer_id = ");
                    Engine::bind_i64(&mut memberships_sql, customer_id);
                }
                _ => {
                    memberships_sql.push("m.user_id IN (");
                    for (index, user) in users.iter().enumerate() {
                        if index > 0 {
                            memberships_sql.push(", ");
                        }
                        Engine::bind_i64(&mut memberships_sql, *user);
                    }
                    memberships_sql.push(")");
                }
            }
            memberships_sql
                .build_query_scalar()
                .fetch_one(connection)
                .await?
        });
        let memberships: Vec<(i64, String)> = from_json(&text)?;
        let mut by_user: HashMap<i64, Vec<String>> = HashMap::new();
        for (user_id, group) in memberships {
            by_user.entry(user_id).or_default().push(group);
        }
        Ok(by_user
            .into_iter()
            .map(|(user_id, groups)| (user_id, Arc::from(groups)))
            .collect())
    }

    /// This population, read at population version `since`, brought up to date in `snapshot`:
    /// the users stamped since are read again (every change stamps its user, one that ends a
    /// user's place among the live ones too). None when so many changed that reading everyone
    /// is as cheap, or when a live user left without a stamp since (a row deleted or moved to
    /// another customer: `population_versions.departed`).
    async fn refreshed<'a>(
        &self,
        snapshot: impl Into<Executor<'a>>,
        customer_id: i64,
        since: i64,
    ) -> Result<Option<Population>, sqlx::Error> {
        let snapshot = snapshot.into();
        let stamped_ids = json_rows(snapshot.dialect(), "id");
        on_backend!(snapshot, |snapshot| {
            let departed: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT departed FROM population_versions WHERE customer_id = $1), 0)",
        )
        .bind(customer_id)
        .fetch_one(&mut *snapshot)
        .await?;
            if departed > since {
                return Ok(None);
            }
            let stamped: String = sqlx::query_scalar(&format!(
                "SELECT {stamped_ids} FROM users \
             WHERE customer_id = $1 AND population_stamp > $2 AND scim_id IS NOT NULL"
            ))
            .bind(customer_id)
            .bind(since)
            .fetch_one(&mut *snapshot)
            .await?;
            let stamped: HashSet<i64> = from_json::<Vec<i64>>(&stamped)?.into_iter().collect();
            if stamped.len() > (self.users.len() / 4).max(REFRESHED_USERS) {
                return Ok(None);
            }
            let changed =
                Population::of(&mut *snapshot, customer_id, Selection::ChangedSince(since)).await?;
            let mut users: Vec<Arc<PlacedUser>> = self
                .users
                .iter()
                .filter(|u| !stamped.contains(&u.id))
                .cloned()
                .chain(changed.users)
                .collect();
            users.sort_unstable_by_key(|u| u.id);
            let mut groups: HashMap<i64, Arc<[String]>> = self
                .groups
                .iter()
                .filter(|(id, _)| !stamped.contains(id))
                .map(|(id, groups)| (*id, Arc::clone(groups)))
                .collect();
            groups.extend(changed.groups);
            Ok(Some(Population { users, groups }))
        })
    }

    fn subject<'p>(&'p self, user: &'p PlacedUser) -> Subject<'p> {
        Subject {
            directory: &user.scim_attributes,
            groups: self
                .groups
                .get(&user.id)
                .map_or(&[][..], |groups| &groups[..]),
        }
    }

    /// The rule that places `user`, if any.
    fn decide<'r>(&self, rules: &'r [PlacingRule], user: &PlacedUser) -> Option<&'r PlacingRule> {
        placement::place(rules, self.subject(user))
    }
}

impl AsRef<Rule> for PlacingRule {
    fn as_ref(&self) -> &Rule {
        &self.rule
    }
}

/// Where a user is, or would be: profile, region, quota, mapping; and their status.
type Place = (i64, Option<i64>, Option<i64>, Option<i64>);

fn target(user: &PlacedUser, chosen: Option<&PlacingRule>) -> (Place, &'static str) {
    let status = match (user.status == "Preserved", chosen) {
        (true, _) => "Preserved",
        (false, Some(_)) => "Active",
        (false, None) => "Pending",
    };
    let place = (
        chosen.map_or(user.profile_id, |c| c.profile_id),
        chosen
            .map(|c| c.storage_region_id)
            .or(user.storage_region_id),
        chosen.and_then(|c| c.quota_gb),
        chosen.map(|c| c.rule.id),
    );
    (place, status)
}

fn current(user: &PlacedUser) -> Place {
    (
        user.profile_id,
        user.storage_region_id,
        user.quota_gb,
        user.mapping_id,
    )
}

/// Places the customer's live SCIM users with these SCIM ids (all of them when None) by its
/// mappings, writing each change with a provisioning event (`token_id` when a SCIM request
/// prompted it). A customer without mappings keeps today's placement. Returns how many
/// users changed.
pub async fn place_users<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    only: Option<&[String]>,
    token_id: Option<i64>,
) -> Result<u64, sqlx::Error> {
    on_backend!(executor, |connection| {
        let rules = rules(&mut *connection, customer_id).await?;
        if rules.is_empty() {
            return Ok(0);
        }
        let selection = only.map_or(Selection::All, Selection::ScimIds);
        let population = Population::of(&mut *connection, customer_id, selection).await?;
        let moves: Vec<Move> = population
            .users
            .iter()
            .filter_map(|user| plan(user, population.decide(&rules, user)))
            .collect();
        write_moves(connection, customer_id, &moves, token_id).await?;
        Ok(moves.len() as u64)
    })
}

/// Starts a re-evaluation of the customer's users by its mappings as they now are, in the
/// caller's transaction (the one changing the mappings), superseding one still running; its id.
pub async fn start_job<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<i64, sqlx::Error> {
    on_backend!(conn, |conn| {
        let now = StoredTime::now();
        sqlx::query(
            "UPDATE mapping_jobs SET state = 'superseded', finished_at = $1 \
             WHERE customer_id = $2 AND state = 'running'",
        )
        .bind(now)
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query_scalar(&format!(
            "INSERT INTO mapping_jobs (customer_id, state, total, started_at) \
             VALUES ($1, 'running', (SELECT COUNT(*) FROM ({SELECT_PLACED_IDS}$2) placed), $3) RETURNING id"
        ))
        .bind(customer_id)
        .bind(customer_id)
        .bind(now)
        .fetch_one(conn)
        .await
    })
}

#[derive(sqlx::FromRow)]
struct JobRecord {
    id: i64,
    state: String,
    total: i64,
    done: i64,
    changed: i64,
    #[sqlx(try_from = "StoredTime")]
    started_at: DateTime<Utc>,
    finished_at: Option<StoredTime>,
}

/// A re-evaluation job of the customer.
pub async fn job<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    id: i64,
) -> Result<Option<MappingJob>, sqlx::Error> {
    on_backend!(executor, |executor| {
        let record: Option<JobRecord> = sqlx::query_as(
            "SELECT id, state, total, done, changed, started_at, finished_at FROM mapping_jobs \
             WHERE id = $1 AND customer_id = $2",
        )
        .bind(id)
        .bind(customer_id)
        .fetch_optional(executor)
        .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(record.map(|r| MappingJob {
            id: r.id,
            state: match r.state.as_str() {
                "running" => JobState::Running,
                "superseded" => JobState::Superseded,
                _ => JobState::Done,
            },
            // Users SCIM adds while the job runs are evaluated too.
            total: count(r.total.max(r.done)),
            done: count(r.done),
            changed: count(r.changed),
            started_at: r.started_at,
            finished_at: r.finished_at.map(DateTime::from),
        }))
    })
}

/// Jobs a stopped server left running, to resume.
/// The right to run a re-evaluation job. On PostgreSQL, several instances may find the same
/// job running (each resumes running jobs at start): a session advisory lock on the job, held by
/// a connection of the lease's own, lets one of them run it; a crashed runner's lock ends with
/// its connection, so a later start takes the job over. On SQLite one process serves the file.
pub struct JobLease {
    held: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

/// The advisory lock's key for a job: a hash of a name of Provisio's own, so it meets no other
/// user of advisory locks.
const JOB_LOCK_KEY: &str = "hashtextextended('provisio mapping job ' || $1, 0)";

/// Takes the job for this instance; None when another instance is running it.
pub async fn lease_job(pool: &Pool, job_id: i64) -> Result<Option<JobLease>, sqlx::Error> {
    let Pool::Postgres(pool) = pool else {
        return Ok(Some(JobLease { held: None }));
    };
    let mut connection = pool.acquire().await?;
    let taken: bool = sqlx::query_scalar(&format!("SELECT pg_try_advisory_lock({JOB_LOCK_KEY})"))
        .bind(job_id.to_string())
        .fetch_one(&mut *connection)
        .await?;
    Ok(taken.then_some(JobLease {
        held: Some(connection),
    }))
}

impl JobLease {
    /// Gives the job up, for another instance (or a later start) to take.
    pub async fn release(mut self, job_id: i64) -> Result<(), sqlx::Error> {
        if let Some(mut connection) = self.held.take() {
            sqlx::query(&format!("SELECT pg_advisory_unlock({JOB_LOCK_KEY})"))
                .bind(job_id.to_string())
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }
}

impl Drop for JobLease {
    /// A lease not released (its job stopped on an error) closes its connection instead of
    /// returning it to the pool, which ends the lock with the session.
    fn drop(&mut self) {
        if let Some(connection) = self.held.take() {
            drop(connection.detach());
        }
    }
}

pub async fn running_jobs(pool: &Pool) -> Result<Vec<i64>, sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query_scalar(
        "SELECT id FROM mapping_jobs WHERE state = 'running' ORDER BY id"
    )
    .fetch_all(connection)
    .await)
}

/// What a job's batch is decided on: the job's position and the customer's users and mappings
/// as of one snapshot. Equal frames read at two moments mean the same decision.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct JobFrame {
    customer_id: i64,
    last_user_id: i64,
    /// Changed by triggers whenever anything about the customer's SCIM users that placement
    /// reads changes (migration 0023).
    population_version: i64,
    /// The mappings' count and latest change.
    mappings_stamp: String,
}

async fn job_frame<'a>(
    conn: impl Into<Executor<'a>>,
    job_id: i64,
) -> Result<Option<JobFrame>, sqlx::Error> {
    on_backend!(conn, |conn| {
        sqlx::query_as(
            "SELECT j.customer_id, j.last_user_id, COALESCE(v.version, 0) AS population_version, \
             (SELECT COUNT(*) || '|' || COALESCE(MAX(m.updated_at), '') FROM mappings m \
              WHERE m.customer_id = j.customer_id) AS mappings_stamp \
             FROM mapping_jobs j LEFT JOIN population_versions v ON v.customer_id = j.customer_id \
             WHERE j.id = $1 AND j.state = 'running'",
        )
        .bind(job_id)
        .fetch_optional(conn)
        .await
    })
}

/// A job's next batch, decided from one snapshot: the users it evaluated and the moves.
pub struct JobBatch {
    frame: JobFrame,
    /// The last user evaluated; None when nobody is left.
    last_user: Option<i64>,
    evaluated: i64,
    moves: Vec<Move>,
}

/// Decides the job's next `batch` users by the customer's mappings, reading in `snapshot` (a
/// read transaction, outside the writers' turn); None when the job is no longer running.
pub async fn plan_job_batch<'a>(
    snapshot: impl Into<Executor<'a>>,
    job_id: i64,
    batch: i64,
) -> Result<Option<JobBatch>, sqlx::Error> {
    on_backend!(snapshot, |snapshot| {
        let Some(frame) = job_frame(&mut *snapshot, job_id).await? else {
            return Ok(None);
        };
        let selection = Selection::After {
            id: frame.last_user_id,
            limit: batch,
        };
        let population = Population::of(&mut *snapshot, frame.customer_id, selection).await?;
        let rules = rules(&mut *snapshot, frame.customer_id).await?;
        // A customer without mappings keeps every placement as it is.
        let moves: Vec<Move> = if rules.is_empty() {
            Vec::new()
        } else {
            population
                .users
                .iter()
                .filter_map(|user| plan(user, population.decide(&rules, user)))
                .collect()
        };
        Ok(Some(JobBatch {
            frame,
            last_user: population.users.last().map(|u| u.id),
            evaluated: i64::try_from(population.users.len()).unwrap_or(i64::MAX),
            moves,
        }))
    })
}

/// Writes a batch `plan_job_batch` decided and records the progress, in the caller's write
/// transaction, if nothing it was decided on has changed since; otherwise decides it again
/// here, so a SCIM change committed meanwhile is what it evaluates, never overwritten by a
/// stale reading. False when the job has nothing left (or was superseded).
pub async fn write_job_batch<'a>(
    conn: impl Into<Executor<'a>>,
    job_id: i64,
    planned: JobBatch,
    batch: i64,
) -> Result<bool, sqlx::Error> {
    on_backend!(conn, |conn| {
        let current = job_frame(&mut *conn, job_id).await?;
        let batch_now = match current {
            None => return Ok(false),
            Some(frame) if frame == planned.frame => planned,
            Some(_) => match plan_job_batch(&mut *conn, job_id, batch).await? {
                Some(again) => again,
                None => return Ok(false),
            },
        };
        let Some(last) = batch_now.last_user else {
            sqlx::query("UPDATE mapping_jobs SET state = 'done', finished_at = $1 WHERE id = $2")
                .bind(StoredTime::now())
                .bind(job_id)
                .execute(conn)
                .await?;
            return Ok(false);
        };
        write_moves(
            &mut *conn,
            batch_now.frame.customer_id,
            &batch_now.moves,
            None,
        )
        .await?;
        sqlx::query(
            "UPDATE mapping_jobs SET done = done + $1, changed = changed + $2, last_user_id = $3 \
             WHERE id = $4",
        )
        .bind(batch_now.evaluated)
        .bind(i64::try_from(batch_now.moves.len()).unwrap_or(i64::MAX))
        .bind(last)
        .bind(job_id)
        .execute(conn)
        .await?;
        Ok(true)
    })
}

/// Customers' SCIM users decoded as the mappings see them, for the editor's previews: an admin
/// editing mappings asks for a preview at every keystroke, and decoding 100,000 users is most
/// of its cost. An entry stands while its customer's `population_versions` number (changed by
/// triggers, in the writing transaction) stays the same.
#[derive(Default)]
pub struct PopulationCache {
    entries: Mutex<Vec<CachedPopulation>>,
    /// One decoding at a time: a preview arriving while the editor's warm-up decodes waits
    /// for it rather than doing the same work beside it.
    decoding: tokio::sync::Mutex<()>,
}

struct CachedPopulation {
    customer_id: i64,
    version: i64,
    population: Arc<Population>,
}

/// Up to this many changed users (or a quarter of the customer's), the cache reads just them.
const REFRESHED_USERS: usize = 1_000;

/// Customers whose users stay decoded: the ones being edited now.
const CACHED_CUSTOMERS: usize = 2;

impl PopulationCache {
    fn get(&self, customer_id: i64, version: i64) -> Option<Arc<Population>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|e| e.customer_id == customer_id && e.version == version)
            .map(|e| Arc::clone(&e.population))
    }

    /// Decodes the customer's users ahead of the editor's first preview, unless they are
    /// decoded already.
    pub async fn warm(&self, pool: &Pool, customer_id: i64) -> Result<(), sqlx::Error> {
        let mut snapshot = super::read_transaction(pool).await?;
        self.population(&mut snapshot, customer_id).await?;
        snapshot.commit().await
    }

    /// The customer's users as of `snapshot` (a transaction, so the version read is the
    /// version of the users read), decoded now unless they were already.
    async fn population<'a>(
        &self,
        snapshot: impl Into<Executor<'a>>,
        customer_id: i64,
    ) -> Result<Arc<Population>, sqlx::Error> {
        on_backend!(snapshot, |snapshot| {
            let version: i64 = sqlx::query_scalar(
                "SELECT COALESCE((SELECT version FROM population_versions \
                 WHERE customer_id = $1), 0)",
            )
            .bind(customer_id)
            .fetch_one(&mut *snapshot)
            .await?;
            if let Some(population) = self.get(customer_id, version) {
                return Ok(population);
            }
            let _turn = self.decoding.lock().await;
            if let Some(population) = self.get(customer_id, version) {
                return Ok(population);
            }
            let refreshed = match self.latest(customer_id) {
                Some((since, cached)) if since < version => {
                    cached.refreshed(&mut *snapshot, customer_id, since).await?
                }
                _ => None,
            };
            let population = Arc::new(match refreshed {
                Some(population) => population,
                None => Population::of(&mut *snapshot, customer_id, Selection::Whole).await?,
            });
            self.put(customer_id, version, Arc::clone(&population));
            Ok(population)
        })
    }

    /// The customer's users as last decoded, whatever their version.
    fn latest(&self, customer_id: i64) -> Option<(i64, Arc<Population>)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|e| e.customer_id == customer_id)
            .map(|e| (e.version, Arc::clone(&e.population)))
    }

    fn put(&self, customer_id: i64, version: i64, population: Arc<Population>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.customer_id != customer_id);
        if entries.len() == CACHED_CUSTOMERS {
            entries.remove(0);
        }
        entries.push(CachedPopulation {
            customer_id,
            version,
            population,
        });
    }
}

/// What placing the customer's users by `proposed` (highest priority first; an existing
/// mapping's id with its edits, or None for a new one) would change, without writing.
pub async fn preview<'a>(
    conn: impl Into<Executor<'a>>,
    cache: &PopulationCache,
    customer_id: i64,
    proposed: &[(Option<i64>, SaveMappingRequest)],
) -> Result<MappingPreview, sqlx::Error> {
    on_backend!(conn, |conn| {
        let rules = proposed_rules(proposed);
        let mut snapshot = conn.begin().await?;
        let names: HashMap<i64, String> =
            sqlx::query_as("SELECT id, name FROM mappings WHERE customer_id = $1")
                .bind(customer_id)
                .fetch_all(&mut *snapshot)
                .await?
                .into_iter()
                .collect();
        let population = cache.population(&mut *snapshot, customer_id).await?;
        let mut preview = MappingPreview {
            users: population.users.len() as u64,
            placed: vec![0; rules.len()],
            matched: vec![0; rules.len()],
            pending: 0,
            profile_changes: 0,
            region_changes: 0,
            quota_changes: 0,
            changes: Vec::new(),
            changed: 0,
        };
        let mut sample: Vec<(i64, PreviewChange)> = Vec::new();
        for user in &population.users {
            let subject = population.subject(user);
            // One pass over the rules: what each matches, and the first enabled one that does
            // (what `placement::place` picks).
            let mut chosen_at = None;
            for (at, rule) in rules.iter().enumerate() {
                let hit = placement::matches(&rule.rule, subject);
                preview.matched[at] += u64::from(hit);
                if hit && rule.rule.enabled && chosen_at.is_none() {
                    chosen_at = Some(at);
                }
            }
            let chosen = chosen_at.map(|at| &rules[at]);
            // No mappings at all: users stay where they are, as saving would leave them.
            let (after, status) = if rules.is_empty() {
                (current(user), user.status.as_str())
            } else {
                target(user, chosen)
            };
            match chosen_at {
                Some(at) => preview.placed[at] += 1,
                None if status == "Pending" => preview.pending += 1,
                None => {}
            }
            let before = current(user);
            if before == after && status == user.status {
                continue;
            }
            preview.changed += 1;
            preview.profile_changes += u64::from(before.0 != after.0);
            preview.region_changes += u64::from(before.1 != after.1);
            preview.quota_changes += u64::from(before.2 != after.2);
            if sample.len() < 100 {
                sample.push((
                    user.id,
                    PreviewChange {
                        email: String::new(),
                        mapping_before: user.mapping_id.and_then(|id| names.get(&id).cloned()),
                        mapping_after: chosen.map(|c| c.rule.name.clone()),
                        region_changes: before.1 != after.1,
                    },
                ));
            }
        }
        preview.changes = with_emails(&mut *snapshot, sample).await?;
        snapshot.commit().await?;
        Ok(preview)
    })
}

/// The rules a preview evaluates, in order; new mappings get ids no stored mapping has.
fn proposed_rules(proposed: &[(Option<i64>, SaveMappingRequest)]) -> Vec<PlacingRule> {
    proposed
        .iter()
        .enumerate()
        .map(|(at, (id, m))| PlacingRule {
            rule: Rule {
                id: id.unwrap_or(-1 - i64::try_from(at).unwrap_or(0)),
                name: m.name.clone(),
                enabled: m.enabled,
                matcher: m.matcher.clone(),
            },
            profile_id: m.profile_id,
            storage_region_id: m.storage_region_id,
            quota_gb: m.quota_gb.map(i64::from),
        })
        .collect()
}

/// The sample's changes with their users' emails, read for the few users it names rather than
/// for everyone.
async fn with_emails<'a>(
    conn: impl Into<Executor<'a>>,
    sample: Vec<(i64, PreviewChange)>,
) -> Result<Vec<PreviewChange>, sqlx::Error> {
    on_backend!(conn, |conn| {
        if sample.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = QueryBuilder::new("SELECT id, email FROM users WHERE id IN (");
        let mut list = sql.separated(", ");
        for (id, _) in &sample {
            list.push_bind(*id);
        }
        sql.push(")");
        let emails: HashMap<i64, String> = sql
            .build_query_as::<(i64, String)>()
            .fetch_all(conn)
            .await?
            .into_iter()
            .collect();
        Ok(sample
            .into_iter()
            .map(|(id, mut change)| {
                change.email = emails.get(&id).cloned().unwrap_or_default();
                change
            })
            .collect())
    })
}

/// A user whose placement changes: where to, and the provisioning event that says so.
struct Move {
    user_id: i64,
    to: Place,
    status: &'static str,
    /// Whether the status differs from the user's: when none of a destination's users change
    /// status, the status and license columns (and their indexes) are left alone.
    status_changes: bool,
    external_id: Option<String>,
    scim_id: String,
    changes: String,
    unmatched: bool,
}

/// The move `chosen` makes for `user` (pending when None), if it changes anything.
fn plan(user: &PlacedUser, chosen: Option<&PlacingRule>) -> Option<Move> {
    let (after, status) = target(user, chosen);
    let before = current(user);
    if before == after && status == user.status {
        return None;
    }
    let changes = json!({
        "mapping": {"before": user.mapping_id, "after": chosen.map(|c| &c.rule.name)},
        "profileId": {"before": before.0, "after": after.0},
        "storageRegionId": {"before": before.1, "after": after.1},
        "quotaGb": {"before": before.2, "after": after.2},
        "status": {"before": user.status, "after": status},
    });
    Some(Move {
        user_id: user.id,
        to: after,
        status,
        status_changes: status != user.status,
        external_id: user.external_id.clone(),
        scim_id: user.scim_id.clone(),
        changes: changes.to_string(),
        unmatched: chosen.is_none(),
    })
}

/// Rows per multi-row statement: at most 12 bound values each stays far under SQLite's limit.
const ROWS_PER_STATEMENT: usize = 500;

/// From this many moves on, the report's counts and the population version are kept once per
/// statement rather than by a trigger per row (see migration 0024); fewer, such as a SCIM
/// request's one user, go through the triggers.
const SET_WISE_MOVES: usize = 32;

/// Writes the moves set-wise (one UPDATE per destination, events many rows per INSERT), each
/// with its `place` provisioning event (`token_id` when a SCIM request prompted it).
async fn write_moves<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    moves: &[Move],
    token_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    on_backend!(executor, |connection| {
        if moves.len() >= SET_WISE_MOVES {
            // A savepoint, so an error part-way never leaves the flag raised.
            let mut savepoint = connection.begin().await?;
            raise_set_wise_flag(&mut *savepoint, true).await?;
            count_users(&mut *savepoint, moves, Counting::Leaving).await?;
            // Bumped first: the placements stamp their users with the new version.
            sqlx::query(
                "UPDATE population_versions SET version = version + 1 WHERE customer_id = $1",
            )
            .bind(customer_id)
            .execute(&mut *savepoint)
            .await?;
            write_placements(&mut *savepoint, moves).await?;
            count_users(&mut *savepoint, moves, Counting::Arriving).await?;
            raise_set_wise_flag(&mut *savepoint, false).await?;
            savepoint.commit().await?;
        } else {
            write_placements(&mut *connection, moves).await?;
        }
        insert_place_events(connection, customer_id, moves, token_id).await
    })
}

async fn raise_set_wise_flag<'a>(
    executor: impl Into<Executor<'a>>,
    raised: bool,
) -> Result<(), sqlx::Error> {
    on_backend!(executor, |connection| sqlx::query(
        "UPDATE set_wise_writes SET active = $1"
    )
    .bind(raised)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}

/// Whether moved users are counted out of their groups in `user_counts` (before the write) or
/// into their new ones (after it).
#[derive(Clone, Copy)]
enum Counting {
    Leaving,
    Arriving,
}

/// `user_counts`' key, as read from `users`.
const USER_COUNTS_KEY: &str = "customer_id, customer_global_id, customer_name, \
    customer_account_name, customer_service_plan, profile_name, storage_region_name, \
    mapping_name, status, license, managed_by, COALESCE(quota_gb, 2147483647) AS quota_gb, \
    custom_attribute_name, custom_attribute_value_empty";

/// `user_counts`' primary key.
const USER_COUNTS_PRIMARY_KEY: &str = "customer_id, customer_global_id, customer_name, \
    customer_account_name, customer_service_plan, profile_name, storage_region_name, \
    mapping_name, status, license, managed_by, quota_gb, custom_attribute_name, \
    custom_attribute_value_empty";

/// Counts the moved users out of, or into, their groups in `user_counts`, a statement per
/// few hundred users, as the row triggers would one by one.
async fn count_users<'a>(
    executor: impl Into<Executor<'a>>,
    moves: &[Move],
    counting: Counting,
) -> Result<(), sqlx::Error> {
    on_backend!(executor, |connection| {
        for chunk in moves.chunks(ROWS_PER_STATEMENT) {
            let mut sql = QueryBuilder::new(match counting {
                Counting::Leaving => "UPDATE user_counts SET n = user_counts.n - moved.n FROM (",
                Counting::Arriving => "INSERT INTO user_counts ",
            });
            sql.push(format_args!(
                "SELECT {USER_COUNTS_KEY}, COUNT(*) AS n FROM users WHERE id IN ("
            ));
            for (index, planned) in chunk.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                Engine::bind_i64(&mut sql, planned.user_id);
            }
            sql.push(") GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14");
            match counting {
                Counting::Leaving => sql.push(
                    ") AS moved WHERE (user_counts.customer_id, user_counts.customer_global_id, \
                     user_counts.customer_name, user_counts.customer_account_name, \
                     user_counts.customer_service_plan, user_counts.profile_name, \
                     user_counts.storage_region_name, user_counts.mapping_name, \
                     user_counts.status, user_counts.license, user_counts.managed_by, \
                     user_counts.quota_gb, user_counts.custom_attribute_name, \
                     user_counts.custom_attribute_value_empty) \
                     = (moved.customer_id, \
                     moved.customer_global_id, moved.customer_name, moved.customer_account_name, \
                     moved.customer_service_plan, moved.profile_name, moved.storage_region_name, \
                     moved.mapping_name, moved.status, moved.license, moved.managed_by, \
                     moved.quota_gb, moved.custom_attribute_name, \
                     moved.custom_attribute_value_empty)",
                ),
                Counting::Arriving => sql.push(format_args!(
                    " ON CONFLICT ({USER_COUNTS_PRIMARY_KEY}) \
                     DO UPDATE SET n = user_counts.n + excluded.n"
                )),
            };
            sql.build().execute(&mut *connection).await?;
        }
    });
    Ok(())
}

/// One UPDATE per destination, the report's copies of the names included.
async fn write_placements<'a>(
    executor: impl Into<Executor<'a>>,
    moves: &[Move],
) -> Result<(), sqlx::Error> {
    let mut by_destination: HashMap<(Place, &'static str, bool), Vec<i64>> = HashMap::new();
    for planned in moves {
        by_destination
            .entry((planned.to, planned.status, planned.status_changes))
            .or_default()
            .push(planned.user_id);
    }
    on_backend!(executor, |connection| {
        for ((to, status, status_changes), users) in &by_destination {
            for chunk in users.chunks(ROWS_PER_STATEMENT) {
                let mut sql = QueryBuilder::new("UPDATE users SET profile_id = ");
                sql.push_bind(to.0)
                    .push(", storage_region_id = ")
                    .push_bind(to.1)
                    .push(", quota_gb = ")
                    .push_bind(to.2)
                    .push(", mapping_id = ")
                    .push_bind(to.3);
                if *status_changes {
                    let license = match *status {
                        "Preserved" => "preserved",
                        "Active" => "active",
                        _ => "-",
                    };
                    sql.push(", status = ")
                        .push_bind(*status)
                        .push(", license = ")
                        .push_bind(license);
                }
                // The report's copies of the names, given here so the trigger that would fill
                // them in row by row has nothing to do.
                sql.push(", profile_name = (SELECT name FROM profiles WHERE id = ")
                    .push_bind(to.0)
                    .push(
                        "), storage_region_name = COALESCE((SELECT name FROM storage_regions \
                         WHERE id = ",
                    )
                    .push_bind(to.1)
                    .push("), ''), mapping_name = COALESCE((SELECT name FROM mappings WHERE id = ")
                    .push_bind(to.3)
                    .push(
                        "), ''), population_stamp = (SELECT version FROM population_versions \
                         WHERE customer_id = users.customer_id) WHERE id IN (",
                    );
                for (index, id) in chunk.iter().enumerate() {
                    if index > 0 {
                        sql.push(", ");
                    }
                    sql.push_bind(*id);
                }
                sql.push(")");
                sql.build().execute(&mut *connection).await?;
            }
        }
    });
    Ok(())
}

async fn insert_place_events<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
    moves: &[Move],
    token_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    let at = StoredTime::now();
    on_backend!(executor, |connection| {
        for chunk in moves.chunks(ROWS_PER_STATEMENT) {
            let mut sql = QueryBuilder::new(
                "INSERT INTO provisioning_events (at, customer_id, token_id, action, kind, \
                 outcome, identity, source_id, target_id, changes, error, user_id) ",
            );
            sql.push_values(chunk, |mut row, planned| {
                row.push_bind(at)
                    .push_bind(customer_id)
                    .push_bind(token_id)
                    .push("'place'")
                    .push("'update'")
                    .push("'success'")
                    .push("(SELECT email FROM users WHERE id = ")
                    .push_bind_unseparated(planned.user_id)
                    .push_unseparated(")")
                    .push_bind(&planned.external_id)
                    .push_bind(&planned.scim_id)
                    .push_bind(&planned.changes)
                    .push_bind(planned.unmatched.then_some("no mapping matches"))
                    .push_bind(planned.user_id);
            });
            sql.build().execute(&mut *connection).await?;
        }
    });
    Ok(())
}

/// "Test a user": the customer's live SCIM user with this email, with their directory
/// attributes and groups; None when there is no such user.
pub async fn subject_by_email<'a>(
    conn: impl Into<Executor<'a>>,
    customer_id: i64,
    email: &str,
) -> Result<Option<(Directory, Vec<String>)>, sqlx::Error> {
    let conn = conn.into();
    let dialect = conn.dialect();
    on_backend!(conn, |conn| {
        let user: Option<(i64, Json<Directory>)> = sqlx::query_as(&format!(
            "SELECT id, {} FROM users WHERE customer_id = $1 AND scim_id IS NOT NULL \
             AND NOT scim_deleted AND {} = {}",
            directory(dialect),
            dialect.nocase("email"),
            dialect.nocase("$2")
        ))
        .bind(customer_id)
        .bind(email)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((id, Json(directory))) = user else {
            return Ok(None);
        };
        let groups: Vec<String> = sqlx::query_scalar(
            "SELECT g.scim_id FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id \
             WHERE m.user_id = $1",
        )
        .bind(id)
        .fetch_all(conn)
        .await?;
        Ok(Some((directory, groups)))
    })
}
