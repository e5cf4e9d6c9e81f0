//! What a customer's provisioning health is computed from: its tokens, what SCIM provisioned,
//! and the last hour's, day's and week's requests. The rules turning these into a state live in
//! [`crate::provisioning_health`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use provisio_api::provisioning::HourlyCount;
use sqlx::QueryBuilder;

use super::provisioning_log::instant_text;
use super::time::StoredTime;
use super::{on_backend, Engine, Executor, Pool, Scope};

/// A SCIM request's event: made with a token, and not the placement that followed it.
const SCIM_REQUEST: &str = "e.token_id IS NOT NULL AND e.action <> 'place'";
/// How many of the latest requests decide "Failing".
pub const RECENT_REQUESTS: i64 = 20;

/// One customer's provisioning facts at a moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub customer_id: i64,
    pub customer_name: String,
    /// Not revoked and not expired.
    pub usable_tokens: u32,
    /// Not revoked, but expired.
    pub expired_tokens: u32,
    /// The last expiry among the usable tokens.
    pub usable_until: Option<DateTime<Utc>>,
    pub scim_users: u64,
    pub scim_groups: u64,
    pub last_request_at: Option<DateTime<Utc>>,
    pub requests_1h: u64,
    pub failures_1h: u64,
    /// Requests of the last hour refused for their token (401).
    pub unauthorized_1h: u64,
    pub requests_24h: u64,
    pub failures_24h: u64,
    pub requests_7d: u64,
    pub failures_7d: u64,
    /// The latest requests' outcomes, newest first (at most [`RECENT_REQUESTS`]).
    pub recent_outcomes: Vec<String>,
}

/// `select` (`SELECT customer_id, COUNT(*) FROM … WHERE …`) grouped by customer, for one
/// customer or all.
async fn per_customer_counts<'a>(
    executor: impl Into<Executor<'a>>,
    select: &str,
    only: Option<i64>,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    on_backend!(executor, |connection| {
        let mut sql = QueryBuilder::new(select);
        if let Some(id) = only {
            sql.push(" AND customer_id = ");
            Engine::bind_i64(&mut sql, id);
        }
        sql.push(" GROUP BY customer_id");
        sql.build_query_as().fetch_all(connection).await
    })
}

/// The customer's latest SCIM requests, newest first: when, and how each ended.
async fn recent_requests<'a>(
    executor: impl Into<Executor<'a>>,
    customer_id: i64,
) -> Result<Vec<(StoredTime, String)>, sqlx::Error> {
    let sql = format!(
        "SELECT e.at, e.outcome FROM provisioning_events e \
         WHERE e.customer_id = $1 AND {SCIM_REQUEST} ORDER BY e.at DESC, e.id DESC LIMIT $2"
    );
    on_backend!(executor, |connection| sqlx::query_as(&sql)
        .bind(customer_id)
        .bind(RECENT_REQUESTS)
        .fetch_all(connection)
        .await)
}

/// SCIM requests in a window: (requests, failures, refused for their token).
type Counts = (i64, i64, i64);

#[derive(Clone, Copy)]
enum Window {
    Hour,
    Day,
    Week,
}

impl Window {
    fn store(self, facts: &mut Facts, (requests, failures, unauthorized): Counts) {
        match self {
            Window::Hour => {
                facts.requests_1h = count(requests);
                facts.failures_1h = count(failures);
                facts.unauthorized_1h = count(unauthorized);
            }
            Window::Day => {
                facts.requests_24h = count(requests);
                facts.failures_24h = count(failures);
            }
            Window::Week => {
                facts.requests_7d = count(requests);
                facts.failures_7d = count(failures);
            }
        }
    }
}

/// Each customer's SCIM requests since `since`: the hourly counts of the whole hours after
/// it, and the events of the partial hour it starts in.
async fn window_counts<'a>(
    executor: impl Into<Executor<'a>>,
    only: Option<i64>,
    since: DateTime<Utc>,
) -> Result<Vec<(i64, Counts)>, sqlx::Error> {
    let first_hour = since.duration_trunc(Duration::hours(1)).unwrap_or(since);
    let next_hour = instant_text(first_hour + Duration::hours(1));
    // Counted hours after the first, the first (partial) hour's events, and the events of
    // later hours the counts do not hold yet.
    let rows: Vec<(i64, i64, i64, i64)> = on_backend!(executor, |connection| {
        let mut sql = QueryBuilder::new(
            "SELECT customer_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(failures) AS BIGINT), \
             CAST(SUM(unauthorized) AS BIGINT) FROM (\
             SELECT customer_id, requests, failures, unauthorized FROM provisioning_hourly \
             WHERE hour > ",
        );
        Engine::bind_text(&mut sql, first_hour.format("%Y-%m-%dT%H").to_string());
        if let Some(id) = only {
            sql.push(" AND customer_id = ");
            Engine::bind_i64(&mut sql, id);
        }
        sql.push(
            " UNION ALL SELECT e.customer_id, 1, \
             CASE WHEN e.outcome = 'failure' THEN 1 ELSE 0 END, \
             CASE WHEN e.http_status = 401 THEN 1 ELSE 0 END \
             FROM provisioning_events e WHERE ",
        );
        sql.push(SCIM_REQUEST);
        sql.push(" AND ((e.at >= ");
        Engine::bind_text(&mut sql, instant_text(since));
        sql.push(" AND e.at < ");
        Engine::bind_text(&mut sql, next_hour.clone());
        sql.push(") OR (e.at >= ");
        Engine::bind_text(&mut sql, next_hour.clone());
        sql.push(" AND e.id > (SELECT last_event_id FROM provisioning_log_indexed)))");
        if let Some(id) = only {
            sql.push(" AND e.customer_id = ");
            Engine::bind_i64(&mut sql, id);
        }
        sql.push(") counted GROUP BY customer_id");
        sql.build_query_as().fetch_all(connection).await?
    });
    Ok(rows
        .into_iter()
        .map(|(customer, requests, failures, unauthorized)| {
            (customer, (requests, failures, unauthorized))
        })
        .collect())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The facts of every customer in scope (or of the one `customer`), by customer name.
/// The customers in scope by name, with no facts yet.
async fn customers_in_scope(pool: &Pool, only: Option<i64>) -> Result<Vec<Facts>, sqlx::Error> {
    let order = format!(" ORDER BY {}, id", pool.dialect().nocase("name"));
    let customers: Vec<(i64, String)> = on_backend!(pool, |connection| {
        let mut customers = QueryBuilder::new("SELECT id, name FROM customers");
        if let Some(id) = only {
            customers.push(" WHERE id = ");
            Engine::bind_i64(&mut customers, id);
        }
        customers.push(&order);
        customers.build_query_as().fetch_all(connection).await?
    });
    Ok(customers
        .into_iter()
        .map(|(customer_id, customer_name)| Facts {
            customer_id,
            customer_name,
            ..Facts::default()
        })
        .collect())
}

pub async fn facts(
    pool: &Pool,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<Vec<Facts>, sqlx::Error> {
    let only = scope.customer_id();
    let mut facts = customers_in_scope(pool, only).await?;
    let index: HashMap<i64, usize> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| (f.customer_id, i))
        .collect();
    let tokens: Vec<(i64, StoredTime)> = on_backend!(pool, |connection| {
        let mut tokens = QueryBuilder::new(
            "SELECT customer_id, expires_at FROM scim_tokens WHERE revoked_at IS NULL",
        );
        if let Some(id) = only {
            tokens.push(" AND customer_id = ");
            Engine::bind_i64(&mut tokens, id);
        }
        tokens.build_query_as().fetch_all(connection).await?
    });
    for (customer_id, StoredTime(expires_at)) in tokens {
        let Some(f) = index.get(&customer_id).map(|&i| &mut facts[i]) else {
            continue;
        };
        if expires_at > now {
            f.usable_tokens += 1;
            f.usable_until = f.usable_until.max(Some(expires_at));
        } else {
            f.expired_tokens += 1;
        }
    }

    let scim_users = "SELECT customer_id, COUNT(*) FROM users \
                      WHERE scim_id IS NOT NULL AND NOT scim_deleted";
    for (customer_id, n) in per_customer_counts(pool, scim_users, only).await? {
        if let Some(&i) = index.get(&customer_id) {
            facts[i].scim_users = count(n);
        }
    }
    let scim_groups = "SELECT customer_id, COUNT(*) FROM scim_groups WHERE 1 = 1";
    for (customer_id, n) in per_customer_counts(pool, scim_groups, only).await? {
        if let Some(&i) = index.get(&customer_id) {
            facts[i].scim_groups = count(n);
        }
    }

    for (since, apply) in [
        (now - Duration::hours(1), Window::Hour),
        (now - Duration::hours(24), Window::Day),
        (now - Duration::days(7), Window::Week),
    ] {
        for (customer_id, counts) in window_counts(pool, only, since).await? {
            if let Some(&i) = index.get(&customer_id) {
                apply.store(&mut facts[i], counts);
            }
        }
    }

    for f in facts
        .iter_mut()
        .filter(|f| f.usable_tokens + f.expired_tokens > 0)
    {
        let recent = recent_requests(pool, f.customer_id).await?;
        f.last_request_at = recent.first().map(|(at, _)| at.0);
        f.recent_outcomes = recent.into_iter().map(|(_, outcome)| outcome).collect();
    }
    Ok(facts)
}

/// The customer's SCIM requests and failures per hour over the last 24 hours, oldest first,
/// every hour present.
pub async fn hourly(
    pool: &Pool,
    customer_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<HourlyCount>, sqlx::Error> {
    let first = now - Duration::hours(23);
    let first = first.duration_trunc(Duration::hours(1)).unwrap_or(first);
    let sql = format!(
        "SELECT hour, requests, failures FROM provisioning_hourly \
         WHERE customer_id = $1 AND hour >= $2 \
         UNION ALL SELECT substr(e.at, 1, 13), 1, \
             CASE WHEN e.outcome = 'failure' THEN 1 ELSE 0 END \
         FROM provisioning_events e WHERE e.customer_id = $1 AND {SCIM_REQUEST} \
         AND e.id > (SELECT last_event_id FROM provisioning_log_indexed) AND e.at >= $3"
    );
    let rows: Vec<(String, i64, i64)> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(customer_id)
        .bind(first.format("%Y-%m-%dT%H").to_string())
        .bind(instant_text(first))
        .fetch_all(connection)
        .await?);
    let mut by_hour: HashMap<String, (i64, i64)> = HashMap::new();
    for (hour, n, f) in rows {
        let counts = by_hour.entry(hour).or_default();
        counts.0 += n;
        counts.1 += f;
    }
    Ok((0..24)
        .map(|i| {
            let hour = first + Duration::hours(i);
            let key = hour.format("%Y-%m-%dT%H").to_string();
            let (changes, failures) = by_hour.get(&key).copied().unwrap_or((0, 0));
            HourlyCount {
                hour,
                changes: count(changes),
                failures: count(failures),
            }
        })
        .collect())
}

/// Notification recipients and the state they were last told of.
pub async fn notification(
    pool: &Pool,
    customer_id: i64,
) -> Result<(Vec<String>, Option<String>), sqlx::Error> {
    let row: Option<(sqlx::types::Json<Vec<String>>, Option<String>)> =
        on_backend!(pool, |connection| sqlx::query_as(
            "SELECT recipients, notified_state FROM provisioning_notifications \
             WHERE customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(connection)
        .await?);
    Ok(row.map_or((vec![], None), |(r, s)| (r.0, s)))
}

pub async fn set_recipients(
    pool: &Pool,
    customer_id: i64,
    recipients: &[String],
) -> Result<(), sqlx::Error> {
    let mut tx = super::write_transaction(pool).await?;
    on_backend!(&mut tx, |connection| sqlx::query(
        "INSERT INTO provisioning_notifications (customer_id, recipients) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO UPDATE SET recipients = excluded.recipients",
    )
    .bind(customer_id)
    .bind(sqlx::types::Json(recipients))
    .execute(connection)
    .await?
    .rows_affected());
    tx.commit().await
}

/// Every customer that has recipients: its id, recipients and the state they were last told of.
pub async fn notified_customers(
    pool: &Pool,
) -> Result<HashMap<i64, (Vec<String>, Option<String>)>, sqlx::Error> {
    let rows: Vec<(i64, sqlx::types::Json<Vec<String>>, Option<String>)> =
        on_backend!(pool, |connection| sqlx::query_as(
            "SELECT customer_id, recipients, notified_state FROM provisioning_notifications \
             WHERE recipients <> '[]'",
        )
        .fetch_all(connection)
        .await?);
    Ok(rows
        .into_iter()
        .map(|(customer, recipients, told)| (customer, (recipients.0, told)))
        .collect())
}

/// Records that the customer's recipients were told of `state` (None: back to normal, so the
/// next bad state is told again); false when another pass already recorded it.
pub async fn mark_notified(
    pool: &Pool,
    customer_id: i64,
    previous: Option<&str>,
    state: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::write_transaction(pool).await?;
    let changed = on_backend!(&mut tx, |connection| sqlx::query(
        "INSERT INTO provisioning_notifications (customer_id, notified_state, notified_at) \
         VALUES ($1, $2, $3) ON CONFLICT (customer_id) DO UPDATE SET \
         notified_state = excluded.notified_state, notified_at = excluded.notified_at \
         WHERE provisioning_notifications.notified_state IS NOT DISTINCT FROM $4",
    )
    .bind(customer_id)
    .bind(state)
    .bind(StoredTime::now())
    .bind(previous)
    .execute(connection)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(changed == 1)
}
