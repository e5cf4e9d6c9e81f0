//! Reading the provisioning log: pages newest first by keyset, exact totals, facets, one event,
//! the whole filtered log as a stream for downloads, and retention.

use chrono::{DateTime, Utc};
use futures_util::{Stream, TryStreamExt};
use provisio_api::provisioning::{
    EventFacet, EventFacets, EventKind, EventQuery, EventRow, EventStatus,
};
use provisio_api::scim::IdentityProvider;
use sqlx::QueryBuilder;

use super::time::StoredTime;
use super::{on_backend, Dialect, Engine, Executor, Pool, Scope};

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
    #[sqlx(try_from = "StoredTime")]
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
fn push_window<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
    scope: Scope,
    query: &EventQuery,
    now: DateTime<Utc>,
) {
    if let Some(customer) = scope.customer_id() {
        sql.push(" AND e.customer_id = ");
        DB::bind_i64(sql, customer);
    }
    let (since, until) = query.window(now);
    if since > DateTime::<Utc>::MIN_UTC {
        sql.push(" AND e.at >= ");
        DB::bind_text(sql, instant_text(since));
    }
    if let Some(until) = until {
        sql.push(" AND e.at < ");
        DB::bind_text(sql, instant_text(until));
    }
    if !query.search.is_empty() {
        let text = query.search.clone();
        // Ids are matched whole, through their indexes; identities by any part: from three
        // characters the trigram index finds them, shorter text has no trigram and is looked
        // for event by event.
        sql.push(" AND e.id IN (SELECT id FROM provisioning_events WHERE request_id = ");
        DB::bind_text(sql, text.clone());
        sql.push(" UNION SELECT id FROM provisioning_events WHERE target_id = ");
        DB::bind_text(sql, text.clone());
        sql.push(" UNION SELECT id FROM provisioning_events WHERE source_id = ");
        DB::bind_text(sql, text.clone());
        sql.push(" UNION ");
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        if DB::DIALECT == Dialect::Postgres {
            // The trigram index on the folded identity finds any part of it.
            sql.push(format!(
                "SELECT id FROM provisioning_events WHERE {} LIKE ",
                DB::DIALECT.nocase("identity")
            ));
            DB::bind_nocase_text(sql, pattern);
            sql.push(" ESCAPE '\\'");
        } else if text.chars().count() >= 3 {
            // The index holds the events up to its watermark; the few after it are read.
            sql.push(
                "SELECT rowid FROM provisioning_events_identity \
                 WHERE provisioning_events_identity MATCH ",
            );
            DB::bind_text(sql, format!("\"{}\"", text.replace('"', "\"\"")));
            sql.push(
                " UNION SELECT id FROM provisioning_events WHERE id > \
                 (SELECT last_event_id FROM provisioning_log_indexed) AND identity LIKE ",
            );
            DB::bind_text(sql, pattern);
            sql.push(" ESCAPE '\\'");
        } else {
            sql.push("SELECT id FROM provisioning_events WHERE identity LIKE ");
            DB::bind_text(sql, pattern);
            sql.push(" ESCAPE '\\'");
        }
        sql.push(")");
    }
}

fn push_list<DB: Engine, T: Copy>(
    sql: &mut QueryBuilder<'_, DB>,
    column: &str,
    values: &[T],
    bind: impl Fn(T) -> BindValue,
) {
    if values.is_empty() {
        return;
    }
    sql.push(format!(" AND {column} IN ("));
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        match bind(*value) {
            BindValue::Text(text) => DB::bind_text(sql, text.to_owned()),
            BindValue::Id(id) => DB::bind_i64(sql, id),
        };
    }
    sql.push(")");
}

enum BindValue {
    Text(&'static str),
    Id(i64),
}

/// Every condition of the query.
fn push_conditions<DB: Engine>(
    sql: &mut QueryBuilder<'_, DB>,
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

fn push_order<DB: Engine>(sql: &mut QueryBuilder<'_, DB>, query: &EventQuery) {
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
    let mut records: Vec<EventRecord> = on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new(SELECT_EVENTS);
        push_conditions(&mut sql, scope, query, now);
        if let Some(after) = after {
            let comparison = if query.oldest_first { ">" } else { "<" };
            sql.push(format!(" AND (e.at, e.id) {comparison} ("));
            Engine::bind_text(&mut sql, after.at.clone());
            sql.push(", ");
            Engine::bind_i64(&mut sql, after.id);
            sql.push(")");
        }
        push_order(&mut sql, query);
        sql.push(" LIMIT ");
        Engine::bind_i64(&mut sql, i64::from(limit) + 1);
        sql.build_query_as().fetch_all(connection).await?
    });
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
    let count: i64 = on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM provisioning_events e WHERE 1 = 1");
        push_conditions(&mut sql, scope, query, now);
        sql.build_query_scalar().fetch_one(connection).await?
    });
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
        match &pool {
            Pool::Sqlite(pool) => {
                let mut sql = QueryBuilder::new(SELECT_EVENTS);
                push_conditions(&mut sql, scope, &query, now);
                push_order(&mut sql, &query);
                let mut records = sql.build_query_as::<EventRecord>().fetch(pool);
                while let Some(record) = records.try_next().await? {
                    yield record;
                }
            }
            Pool::Postgres(pool) => {
                let mut sql = QueryBuilder::new(SELECT_EVENTS);
                push_conditions(&mut sql, scope, &query, now);
                push_order(&mut sql, &query);
                let mut records = sql.build_query_as::<EventRecord>().fetch(pool);
                while let Some(record) = records.try_next().await? {
                    yield record;
                }
            }
        }
    }
}

/// One event the caller may see.
pub async fn find(pool: &Pool, scope: Scope, id: i64) -> Result<Option<EventRecord>, sqlx::Error> {
    on_backend!(pool, |connection| {
        let mut sql = QueryBuilder::new(SELECT_EVENTS);
        sql.push(" AND e.id = ");
        Engine::bind_i64(&mut sql, id);
        if let Some(customer) = scope.customer_id() {
            sql.push(" AND e.customer_id = ");
            Engine::bind_i64(&mut sql, customer);
        }
        sql.build_query_as().fetch_optional(connection).await
    })
}

/// The values that occur in the query's date range (and search), with counts: the filters'
/// options. Only values that occur are listed.
pub async fn facets(
    pool: &Pool,
    scope: Scope,
    query: &EventQuery,
    now: DateTime<Utc>,
) -> Result<EventFacets, sqlx::Error> {
    let grouped = |column: &str| {
        format!(
            "SELECT {column} AS value, COUNT(*) AS n FROM provisioning_events e \
             WHERE {column} IS NOT NULL"
        )
    };
    let (statuses, kinds, customers, tokens) = on_backend!(pool, |connection| {
        let mut texts = Vec::new();
        for column in ["e.outcome", "e.kind"] {
            let mut sql = QueryBuilder::new(grouped(column));
            push_window(&mut sql, scope, query, now);
            sql.push(format!(" GROUP BY {column} ORDER BY n DESC, {column}"));
            let counts: Vec<(String, i64)> =
                sql.build_query_as().fetch_all(&mut *connection).await?;
            texts.push(counts);
        }
        let mut ids = Vec::new();
        for column in ["e.customer_id", "e.token_id"] {
            let mut sql = QueryBuilder::new(grouped(column));
            push_window(&mut sql, scope, query, now);
            sql.push(format!(" GROUP BY {column} ORDER BY n DESC, {column}"));
            let counts: Vec<(i64, i64)> = sql.build_query_as().fetch_all(&mut *connection).await?;
            ids.push(counts);
        }
        let tokens = ids.pop().unwrap_or_default();
        let customers = ids.pop().unwrap_or_default();
        let kinds = texts.pop().unwrap_or_default();
        let statuses = texts.pop().unwrap_or_default();
        (statuses, kinds, customers, tokens)
    });
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
    pool: &Pool,
    sql: &str,
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    let rows: Vec<(i64, String)> = on_backend!(pool, |connection| sqlx::query_as(sql)
        .fetch_all(connection)
        .await?);
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
    // One indexer at a time, whichever instance runs it: the watermark's row is locked
    // (SQLite's writers take turns anyway).
    let watermark = format!(
        "SELECT last_event_id, (SELECT COALESCE(MAX(id), 0) FROM provisioning_events) \
         FROM provisioning_log_indexed{}",
        match pool.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    );
    let mut indexed = 0;
    loop {
        let mut tx = super::write_transaction(pool).await?;
        let (from, newest): (i64, i64) =
            on_backend!(&mut tx, |connection| sqlx::query_as(&watermark)
                .fetch_one(connection)
                .await?);
        if newest <= from {
            return Ok(indexed);
        }
        let to = newest.min(from.saturating_add(batch.max(1)));
        index_range(&mut tx, from, to).await?;
        tx.commit().await?;
        indexed += u64::try_from(to - from).unwrap_or(0);
    }
}

/// Indexes the events with ids in (from, to] and moves the watermark to `to`. PostgreSQL's
/// identity index is kept by PostgreSQL itself; only the hourly counts are fed.
async fn index_range<'a>(
    executor: impl Into<Executor<'a>>,
    from: i64,
    to: i64,
) -> Result<(), sqlx::Error> {
    let executor = executor.into();
    let dialect = executor.dialect();
    on_backend!(executor, |connection| {
        if dialect == Dialect::Sqlite {
            sqlx::query(
                "INSERT INTO provisioning_events_identity (rowid, identity) \
                 SELECT id, identity FROM provisioning_events WHERE id > $1 AND id <= $2",
            )
            .bind(from)
            .bind(to)
            .execute(&mut *connection)
            .await?;
        }
        sqlx::query(
            "INSERT INTO provisioning_hourly (customer_id, hour, requests, failures, unauthorized) \
             SELECT customer_id, substr(at, 1, 13), COUNT(*), \
                    SUM(CASE WHEN outcome = 'failure' THEN 1 ELSE 0 END), \
                    SUM(CASE WHEN http_status = 401 THEN 1 ELSE 0 END) \
               FROM provisioning_events \
              WHERE id > $1 AND id <= $2 AND token_id IS NOT NULL AND action <> 'place' \
              GROUP BY customer_id, substr(at, 1, 13) \
             ON CONFLICT (customer_id, hour) DO UPDATE SET \
                 requests = provisioning_hourly.requests + excluded.requests, \
                 failures = provisioning_hourly.failures + excluded.failures, \
                 unauthorized = provisioning_hourly.unauthorized + excluded.unauthorized",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *connection)
        .await?;
        sqlx::query("UPDATE provisioning_log_indexed SET last_event_id = $1")
            .bind(to)
            .execute(&mut *connection)
            .await?;
    });
    Ok(())
}

/// Removes up to `batch` events older than `cutoff`; how many went. Small batches keep each
/// write transaction short, so SCIM writes are never held up for long.
pub async fn remove_older_than(
    pool: &Pool,
    cutoff: DateTime<Utc>,
    batch: u32,
) -> Result<u64, sqlx::Error> {
    let mut tx = super::write_transaction(pool).await?;
    let removed = on_backend!(&mut tx, |connection| sqlx::query(
        "DELETE FROM provisioning_events WHERE id IN \
         (SELECT id FROM provisioning_events WHERE at < $1 ORDER BY at LIMIT $2)",
    )
    .bind(instant_text(cutoff))
    .bind(i64::from(batch))
    .execute(connection)
    .await?
    .rows_affected());
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
    let nocase = |expression| pool.dialect().nocase(expression);
    let sql = format!(
        "SELECT id, email FROM users WHERE customer_id = $1 AND ({} = {given} \
         OR {} = {given}) ORDER BY id LIMIT 1",
        nocase("email"),
        nocase("scim_user_name"),
        given = nocase("$2"),
    );
    for name in names {
        let id: Option<(i64, String)> = on_backend!(pool, |connection| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(name)
            .fetch_optional(connection)
            .await?);
        if id.is_some() {
            return Ok(id);
        }
    }
    Ok(None)
}
