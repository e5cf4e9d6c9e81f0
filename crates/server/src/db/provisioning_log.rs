//! Reading the provisioning log: pages newest first by keyset, exact totals, facets, one event,
//! the whole filtered log as a stream for downloads, and retention.

use super::Pool;
use chrono::{DateTime, Utc};
use futures_util::{Stream, TryStreamExt};
use provisio_api::provisioning::{
    EventFacet, EventFacets, EventKind, EventQuery, EventRow, EventStatus,
};
use provisio_api::scim::IdentityProvider;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::Scope;

/// Where a page ended: the last event's time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventKeyset {
    pub at: String,
    pub id: i64,
}

const SELECT_EVENTS: &str = "SELECT e.id, e.at, e.identity, e.kind, e.action, e.outcome, \
     e.customer_id, c.name AS customer_name, e.token_id, t.name AS token_name, \
     t.identity_provider, e.admin_email, e.source_id, e.target_id, e.duration_ms, e.request_id, \
     e.error, e.changes, e.error_code, e.http_status, e.client_address, e.user_id \
     FROM provisioning_events e JOIN customers c ON c.id = e.customer_id \
     LEFT JOIN scim_tokens t ON t.id = e.token_id WHERE 1 = 1";

/// An event as stored, with its customer's and token's names.
#[derive(Debug, sqlx::FromRow)]
pub struct EventRecord {
    id: i64,
    at: DateTime<Utc>,
    identity: String,
    kind: String,
    action: String,
    outcome: String,
    customer_id: i64,
    customer_name: String,
    token_id: Option<i64>,
    pub token_name: Option<String>,
    identity_provider: Option<String>,
    admin_email: Option<String>,
    source_id: Option<String>,
    target_id: Option<String>,
    duration_ms: Option<i64>,
    request_id: Option<String>,
    error: Option<String>,
    /// `{"property": {"before": …, "after": …}}`
    pub changes: String,
    pub error_code: Option<String>,
    pub http_status: Option<i64>,
    pub client_address: Option<String>,
    pub user_id: Option<i64>,
}

impl EventRecord {
    pub fn row(&self) -> EventRow {
        EventRow {
            id: self.id,
            at: self.at,
            identity: self.identity.clone(),
            kind: EventKind::from_key(&self.kind).unwrap_or(EventKind::Other),
            action: self.action.clone(),
            status: EventStatus::from_key(&self.outcome).unwrap_or(EventStatus::Failure),
            customer_id: self.customer_id,
            customer_name: self.customer_name.clone(),
            source_system: self.source_system(),
            token_id: self.token_id,
            source_id: self.source_id.clone(),
            target_id: self.target_id.clone(),
            duration_ms: self.duration_ms,
            request_id: self.request_id.clone(),
            error: self.error.clone(),
        }
    }

    /// The identity provider's label, when a token made the event.
    pub fn identity_provider(&self) -> Option<String> {
        self.identity_provider.as_deref().map(|key| {
            IdentityProvider::from_key(key)
                .map_or_else(|| key.to_owned(), |idp| idp.label().to_owned())
        })
    }

    fn source_system(&self) -> String {
        match (
            &self.admin_email,
            &self.token_name,
            self.identity_provider(),
        ) {
            (Some(admin), _, _) => admin.clone(),
            (None, Some(token), Some(provider)) if self.action == "place" => {
                format!("Mappings (after {provider} · {token})")
            }
            (None, Some(token), Some(provider)) => format!("{provider} · {token}"),
            (None, Some(token), None) => token.clone(),
            (None, None, _) => "Mappings".to_owned(),
        }
    }
}

/// A bound instant as the log stores them (RFC 3339, seconds, `Z`).
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Scope and date range: what facets count over.
fn push_window(
    sql: &mut QueryBuilder<'_, Sqlite>,
    scope: Scope,
    query: &EventQuery,
    now: DateTime<Utc>,
) {
    if let Some(customer) = scope.customer_id() {
        sql.push(" AND e.customer_id = ").push_bind(customer);
    }
    let (since, until) = query.window(now);
    if since > DateTime::<Utc>::MIN_UTC {
        sql.push(" AND e.at >= ").push_bind(instant_text(since));
    }
    if let Some(until) = until {
        sql.push(" AND e.at < ").push_bind(instant_text(until));
    }
    if !query.search.is_empty() {
        let text = query.search.clone();
        // Ids are matched whole, through their indexes; identities by any part: from three
        // characters the trigram index finds them, shorter text has no trigram and is looked
        // for event by event.
        sql.push(" AND e.id IN (SELECT id FROM provisioning_events WHERE request_id = ")
            .push_bind(text.clone())
            .push(" UNION SELECT id FROM provisioning_events WHERE target_id = ")
            .push_bind(text.clone())
            .push(" UNION SELECT id FROM provisioning_events WHERE source_id = ")
            .push_bind(text.clone())
            .push(" UNION ");
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        if text.chars().count() >= 3 {
            // The index holds the events up to its watermark; the few after it are read.
            sql.push(
                "SELECT rowid FROM provisioning_events_identity \
                 WHERE provisioning_events_identity MATCH ",
            )
            .push_bind(format!("\"{}\"", text.replace('"', "\"\"")))
            .push(
                " UNION SELECT id FROM provisioning_events WHERE id > \
                 (SELECT last_event_id FROM provisioning_log_indexed) AND identity LIKE ",
            )
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
        } else {
            sql.push("SELECT id FROM provisioning_events WHERE identity LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\'");
        }
        sql.push(")");
    }
}

fn push_list<T: Copy>(
    sql: &mut QueryBuilder<'_, Sqlite>,
    column: &str,
    values: &[T],
    bind: impl Fn(T) -> BindValue,
) {
    if values.is_empty() {
        return;
    }
    sql.push(format!(" AND {column} IN ("));
    let mut list = sql.separated(", ");
    for value in values {
        match bind(*value) {
            BindValue::Text(text) => list.push_bind(text),
            BindValue::Id(id) => list.push_bind(id),
        };
    }
    sql.push(")");
}

enum BindValue {
    Text(&'static str),
    Id(i64),
}

/// Every condition of the query.
fn push_conditions(
    sql: &mut QueryBuilder<'_, Sqlite>,
    scope: Scope,
    query: &EventQuery,
    now: DateTime<Utc>,
) {
    push_window(sql, scope, query, now);
    push_list(sql, "e.outcome", &query.statuses, |s| {
        BindValue::Text(s.key())
    });
    push_list(sql, "e.kind", &query.kinds, |k| BindValue::Text(k.key()));
    push_list(sql, "e.customer_id", &query.customers, BindValue::Id);
    push_list(sql, "e.token_id", &query.tokens, BindValue::Id);
}

fn push_order(sql: &mut QueryBuilder<'_, Sqlite>, query: &EventQuery) {
    let direction = if query.oldest_first { "ASC" } else { "DESC" };
    sql.push(format!(" ORDER BY e.at {direction}, e.id {direction}"));
}

/// One page after `after` (the first without), and whether more follow.
pub async fn page(
    pool: &Pool,
    scope: Scope,
    query: &EventQuery,
    after: Option<&EventKeyset>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(Vec<EventRow>, Option<EventKeyset>), sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut sql = QueryBuilder::<Sqlite>::new(SELECT_EVENTS);
    push_conditions(&mut sql, scope, query, now);
    if let Some(after) = after {
        let comparison = if query.oldest_first { ">" } else { "<" };
        sql.push(format!(" AND (e.at, e.id) {comparison} ("))
            .push_bind(after.at.clone())
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    push_order(&mut sql, query);
    sql.push(" LIMIT ").push_bind(i64::from(limit) + 1);
    let mut records: Vec<EventRecord> = sql.build_query_as().fetch_all(pool).await?;
    let more = records.len() > limit as usize;
    records.truncate(limit as usize);
    let next = match records.last() {
        Some(last) if more => Some(EventKeyset {
            at: instant_text(last.at),
            id: last.id,
        }),
        _ => None,
    };
    Ok((records.iter().map(EventRecord::row).collect(), next))
}

/// How many events the query keeps.
pub async fn count(
    pool: &Pool,
    scope: Scope,
    query: &EventQuery,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut sql =
        QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM provisioning_events e WHERE 1 = 1");
    push_conditions(&mut sql, scope, query, now);
    let count: i64 = sql.build_query_scalar().fetch_one(pool).await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Every event the query keeps, in its order, for a download.
pub fn stream(
    pool: Pool,
    scope: Scope,
    query: EventQuery,
    now: DateTime<Utc>,
) -> impl Stream<Item = Result<EventRecord, sqlx::Error>> + Send + 'static {
    async_stream::try_stream! {
        let mut sql = QueryBuilder::<Sqlite>::new(SELECT_EVENTS);
        push_conditions(&mut sql, scope, &query, now);
        push_order(&mut sql, &query);
        let mut records = sql.build_query_as::<EventRecord>().fetch(pool.sqlite()?);
        while let Some(record) = records.try_next().await? {
            yield record;
        }
    }
}

/// One event the caller may see.
pub async fn find(pool: &Pool, scope: Scope, id: i64) -> Result<Option<EventRecord>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut sql = QueryBuilder::<Sqlite>::new(SELECT_EVENTS);
    sql.push(" AND e.id = ").push_bind(id);
    if let Some(customer) = scope.customer_id() {
        sql.push(" AND e.customer_id = ").push_bind(customer);
    }
    sql.build_query_as().fetch_optional(pool).await
}

/// The values that occur in the query's date range (and search), with counts: the filters'
/// options. Only values that occur are listed.
pub async fn facets(
    pool: &Pool,
    scope: Scope,
    query: &EventQuery,
    now: DateTime<Utc>,
) -> Result<EventFacets, sqlx::Error> {
    let pool = pool.sqlite()?;
    let grouped = |column: &str| {
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {column} AS value, COUNT(*) AS n FROM provisioning_events e WHERE {column} IS NOT NULL"
        ));
        push_window(&mut sql, scope, query, now);
        sql.push(format!(" GROUP BY {column} ORDER BY n DESC"));
        sql
    };
    let statuses: Vec<(String, i64)> = grouped("e.outcome")
        .build_query_as()
        .fetch_all(pool)
        .await?;
    let kinds: Vec<(String, i64)> = grouped("e.kind").build_query_as().fetch_all(pool).await?;
    let customers: Vec<(i64, i64)> = grouped("e.customer_id")
        .build_query_as()
        .fetch_all(pool)
        .await?;
    let tokens: Vec<(i64, i64)> = grouped("e.token_id")
        .build_query_as()
        .fetch_all(pool)
        .await?;
    let customer_names = names(pool, "SELECT id, name FROM customers").await?;
    let token_names = names(
        pool,
        "SELECT t.id, t.identity_provider || ' · ' || t.name FROM scim_tokens t",
    )
    .await?;
    Ok(EventFacets {
        statuses: facet_entries(statuses, |key| {
            let value = EventStatus::from_key(&key)?;
            Some((value, value.label().to_owned()))
        }),
        kinds: facet_entries(kinds, |key| {
            let value = EventKind::from_key(&key)?;
            Some((value, value.label().to_owned()))
        }),
        customers: facet_entries(customers, |id| {
            let label = customer_names.get(&id).cloned();
            Some((id, label.unwrap_or_else(|| format!("Customer {id}"))))
        }),
        tokens: facet_entries(tokens, |id| {
            let label = token_names.get(&id).map(|label| provider_label(label));
            Some((id, label.unwrap_or_else(|| format!("Token {id}"))))
        }),
    })
}

/// Facet entries from grouped counts, each key given its value and label; keys `label` cannot
/// name are left out.
fn facet_entries<K, V>(
    counts: Vec<(K, i64)>,
    label: impl Fn(K) -> Option<(V, String)>,
) -> Vec<EventFacet<V>> {
    counts
        .into_iter()
        .filter_map(|(key, n)| {
            let (value, label) = label(key)?;
            Some(EventFacet {
                value,
                label,
                count: u64::try_from(n).unwrap_or(0),
            })
        })
        .collect()
}

/// `entra_id · Production` → `Microsoft Entra ID · Production`.
fn provider_label(label: &str) -> String {
    match label.split_once(" · ") {
        Some((key, name)) => {
            let provider = IdentityProvider::from_key(key).map_or(key, |idp| idp.label());
            format!("{provider} · {name}")
        }
        None => label.to_owned(),
    }
}

async fn names(
    pool: &SqlitePool,
    sql: &str,
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(sql).fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// Events indexed per write transaction: a mapping re-evaluation writes one event per user
/// moved (100,000 and more), and indexing them in one transaction held SCIM writes for a third
/// of a second; a batch of this size takes a few milliseconds.
pub const INDEX_BATCH_EVENTS: i64 = 2_000;

/// Puts the events written since the last call into the search index and the hourly counts;
/// how many. Readers see the same answers before and after: they read the events past the
/// watermark directly.
pub async fn index_new(pool: &Pool) -> Result<u64, sqlx::Error> {
    index_new_in_batches(pool, INDEX_BATCH_EVENTS).await
}

/// As `index_new`, `batch` event ids per write transaction, so writers waiting for their turn
/// get it between batches.
pub async fn index_new_in_batches(pool: &Pool, batch: i64) -> Result<u64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut indexed = 0;
    loop {
        let mut tx = super::write_transaction(pool).await?;
        let (from, newest): (i64, i64) = sqlx::query_as(
            "SELECT last_event_id, (SELECT COALESCE(MAX(id), 0) FROM provisioning_events) \
             FROM provisioning_log_indexed",
        )
        .fetch_one(tx.sqlite()?)
        .await?;
        if newest <= from {
            return Ok(indexed);
        }
        let to = newest.min(from.saturating_add(batch.max(1)));
        index_range(tx.sqlite()?, from, to).await?;
        tx.commit().await?;
        indexed += u64::try_from(to - from).unwrap_or(0);
    }
}

/// Indexes the events with ids in (from, to] and moves the watermark to `to`.
async fn index_range(conn: &mut SqliteConnection, from: i64, to: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provisioning_events_identity (rowid, identity) \
         SELECT id, identity FROM provisioning_events WHERE id > ? AND id <= ?",
    )
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO provisioning_hourly (customer_id, hour, requests, failures, unauthorized) \
         SELECT customer_id, substr(at, 1, 13), COUNT(*), SUM(outcome = 'failure'), \
                SUM(http_status IS 401) \
           FROM provisioning_events \
          WHERE id > ? AND id <= ? AND token_id IS NOT NULL AND action <> 'place' \
          GROUP BY customer_id, substr(at, 1, 13) \
         ON CONFLICT (customer_id, hour) DO UPDATE SET \
             requests = requests + excluded.requests, \
             failures = failures + excluded.failures, \
             unauthorized = unauthorized + excluded.unauthorized",
    )
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE provisioning_log_indexed SET last_event_id = ?")
        .bind(to)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes up to `batch` events older than `cutoff`; how many went. Small batches keep each
/// write transaction short, so SCIM writes are never held up for long.
pub async fn remove_older_than(
    pool: &Pool,
    cutoff: DateTime<Utc>,
    batch: u32,
) -> Result<u64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut tx = super::write_transaction(pool).await?;
    let removed = sqlx::query(
        "DELETE FROM provisioning_events WHERE id IN \
         (SELECT id FROM provisioning_events WHERE at < ? ORDER BY at LIMIT ?)",
    )
    .bind(instant_text(cutoff))
    .bind(i64::from(batch))
    .execute(tx.sqlite()?)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(removed)
}

/// The user of the customer with this userName or email (id and email), for a uniqueness
/// conflict's troubleshooting link.
pub async fn user_named(
    pool: &Pool,
    customer_id: i64,
    names: &[&str],
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let pool = pool.sqlite()?;
    for name in names {
        let id: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, email FROM users WHERE customer_id = ? AND (email = ? COLLATE NOCASE \
             OR scim_user_name = ? COLLATE NOCASE) LIMIT 1",
        )
        .bind(customer_id)
        .bind(name)
        .bind(name)
        .fetch_optional(pool)
        .await?;
        if id.is_some() {
            return Ok(id);
        }
    }
    Ok(None)
}
