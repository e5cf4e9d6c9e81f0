//! Report subscriptions and their deliveries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use provisio_api::report::{decode_columns, encode_columns, ExportFormat, ReportField};
use provisio_api::subscription::{
    Delivery, DeliveryOutcome, Schedule, SubscribedView, Subscription, SubscriptionOwner,
};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Sqlite};

use super::time::StoredTime;
use super::{on_backend, Engine, Pool, Principal};

#[derive(sqlx::FromRow)]
struct SubscriptionRecord {
    id: i64,
    name: String,
    owner_id: i64,
    owner_email: String,
    owner_name: String,
    owner_disabled: bool,
    view_kind: String,
    query: String,
    columns: StoredColumns,
    saved_view_id: Option<i64>,
    view_name: Option<String>,
    format: String,
    schedule: Json<Schedule>,
    recipients: Json<Vec<String>>,
    skip_empty: bool,
    enabled: bool,
    next_run_at: Option<StoredTime>,
}

const SELECT_SUBSCRIPTIONS: &str = "SELECT s.id, s.name, s.owner_id, o.email AS owner_email, \
     o.display_name AS owner_name, o.disabled AS owner_disabled, s.view_kind, s.query, s.columns, \
     s.saved_view_id, v.name AS view_name, s.format, s.schedule, s.recipients, s.skip_empty, \
     s.enabled, s.next_run_at \
     FROM subscriptions s JOIN admins o ON o.id = s.owner_id \
     LEFT JOIN saved_views v ON v.id = s.saved_view_id";

/// A snapshot's columns as stored: `cols=` text, empty for the report's own. Text that does not
/// read is an error of the row, not an empty list.
struct StoredColumns(Vec<ReportField>);

impl StoredColumns {
    fn parse(text: &str) -> Result<Self, sqlx::error::BoxDynError> {
        if text.is_empty() {
            return Ok(StoredColumns(Vec::new()));
        }
        Ok(StoredColumns(
            decode_columns(text).map_err(|err| err.to_string())?,
        ))
    }
}

impl sqlx::Type<Sqlite> for StoredColumns {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<Sqlite>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for StoredColumns {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        StoredColumns::parse(<&str as sqlx::Decode<Sqlite>>::decode(value)?)
    }
}

impl sqlx::Type<Postgres> for StoredColumns {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<Postgres>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for StoredColumns {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        StoredColumns::parse(<&str as sqlx::Decode<Postgres>>::decode(value)?)
    }
}

impl SubscriptionRecord {
    fn into_subscription(self, last_delivery: Option<Delivery>) -> Subscription {
        let Json(schedule) = self.schedule;
        Subscription {
            id: self.id,
            name: self.name,
            owner: SubscriptionOwner {
                id: self.owner_id,
                email: self.owner_email,
                display_name: self.owner_name,
                disabled: self.owner_disabled,
            },
            view: match (self.view_kind.as_str(), self.saved_view_id) {
                ("saved_view", Some(view_id)) => SubscribedView::SavedView { view_id },
                _ => SubscribedView::Snapshot {
                    query: self.query,
                    columns: self.columns.0,
                },
            },
            view_name: self.view_name,
            format: ExportFormat::from_key(&self.format).unwrap_or(ExportFormat::Csv),
            schedule_text: schedule.describe(),
            schedule,
            recipients: self.recipients.0,
            skip_empty: self.skip_empty,
            enabled: self.enabled,
            next_delivery: self.next_run_at.map(DateTime::from),
            last_delivery,
        }
    }
}

/// The subscriptions `principal` may see.
pub async fn list(pool: &Pool, principal: &Principal) -> Result<Vec<Subscription>, sqlx::Error> {
    select(pool, principal.subscription_owner(), None).await
}

/// One subscription `principal` may see.
pub async fn find(
    pool: &Pool,
    principal: &Principal,
    id: i64,
) -> Result<Option<Subscription>, sqlx::Error> {
    let owner = principal.subscription_owner();
    Ok(select(pool, owner, Some(id)).await?.into_iter().next())
}

/// Any subscription, for the scheduler, which then acts as the subscription's owner.
pub async fn find_to_deliver(pool: &Pool, id: i64) -> Result<Option<Subscription>, sqlx::Error> {
    Ok(select(pool, None, Some(id)).await?.into_iter().next())
}

/// The subscriptions of `owner` (everyone's when None; only `id`, when given), each with its
/// last delivery: two queries whatever the count.
async fn select(
    pool: &Pool,
    owner: Option<i64>,
    id: Option<i64>,
) -> Result<Vec<Subscription>, sqlx::Error> {
    let sql = format!(
        "{SELECT_SUBSCRIPTIONS} WHERE ($1 IS NULL OR s.owner_id = $1) \
         AND ($2 IS NULL OR s.id = $2) ORDER BY {}, s.id",
        pool.dialect().nocase("s.name")
    );
    let (records, last): (Vec<SubscriptionRecord>, Vec<DeliveryRecord>) =
        on_backend!(pool, |connection| {
            let records: Vec<SubscriptionRecord> = sqlx::query_as(&sql)
                .bind(owner)
                .bind(id)
                .fetch_all(&mut *connection)
                .await?;
            if records.is_empty() {
                return Ok(Vec::new());
            }
            let mut last = QueryBuilder::new(format!(
                "{SELECT_DELIVERIES} WHERE id IN \
                 (SELECT max(id) FROM deliveries WHERE subscription_id IN ("
            ));
            for (index, record) in records.iter().enumerate() {
                if index > 0 {
                    last.push(", ");
                }
                Engine::bind_i64(&mut last, record.id);
            }
            last.push(") GROUP BY subscription_id)");
            let last = last.build_query_as().fetch_all(connection).await?;
            (records, last)
        });
    let mut last_deliveries: HashMap<i64, Delivery> = last
        .into_iter()
        .map(|r| (r.subscription_id, Delivery::from(r)))
        .collect();
    Ok(records
        .into_iter()
        .map(|r| {
            let last = last_deliveries.remove(&r.id);
            r.into_subscription(last)
        })
        .collect())
}

/// What a subscription stores, checked by the caller.
pub struct SubscriptionContent<'a> {
    pub name: &'a str,
    pub view: &'a SubscribedView,
    pub format: ExportFormat,
    pub schedule: &'a Schedule,
    pub recipients: &'a [String],
    pub skip_empty: bool,
    pub enabled: bool,
    /// The next delivery, computed from the schedule; None while paused.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// The content's columns, in the order `CONTENT_COLUMNS` names them.
const CONTENT_COLUMNS: &str = "name, view_kind, query, columns, saved_view_id, format, schedule, \
     recipients, skip_empty, enabled, next_run_at";

/// Binds a content's eleven values, in `CONTENT_COLUMNS`' order, to `$query`.
macro_rules! bind_content {
    ($query:expr, $content:expr) => {{
        let content: &SubscriptionContent<'_> = $content;
        let (kind, text, columns, view_id) = match content.view {
            SubscribedView::Snapshot { query, columns } => {
                ("snapshot", query.clone(), encode_columns(columns), None)
            }
            SubscribedView::SavedView { view_id } => {
                ("saved_view", String::new(), String::new(), Some(*view_id))
            }
        };
        $query
            .bind(content.name.to_owned())
            .bind(kind)
            .bind(text)
            .bind(columns)
            .bind(view_id)
            .bind(content.format.key())
            .bind(Json(content.schedule.clone()))
            .bind(Json(content.recipients.to_vec()))
            .bind(content.skip_empty)
            .bind(content.enabled)
            .bind(content.next_run_at.map(StoredTime))
    }};
}

pub async fn insert(
    pool: &Pool,
    owner_id: i64,
    content: &SubscriptionContent<'_>,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "INSERT INTO subscriptions ({CONTENT_COLUMNS}, owner_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id"
    );
    on_backend!(pool, |connection| bind_content!(
        sqlx::query_scalar(&sql),
        content
    )
    .bind(owner_id)
    .bind(StoredTime::now())
    .fetch_one(connection)
    .await)
}

pub async fn update(
    pool: &Pool,
    id: i64,
    content: &SubscriptionContent<'_>,
) -> Result<bool, sqlx::Error> {
    let assignments = CONTENT_COLUMNS
        .split(", ")
        .enumerate()
        .map(|(index, column)| format!("{column} = ${}", index + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE subscriptions SET {assignments}, updated_at = $12 WHERE id = $13");
    let done = on_backend!(pool, |connection| bind_content!(sqlx::query(&sql), content)
        .bind(StoredTime::now())
        .bind(id)
        .execute(connection)
        .await?
        .rows_affected());
    Ok(done == 1)
}

pub async fn set_owner(pool: &Pool, id: i64, owner_id: i64) -> Result<bool, sqlx::Error> {
    let done = on_backend!(pool, |connection| sqlx::query(
        "UPDATE subscriptions SET owner_id = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(owner_id)
    .bind(StoredTime::now())
    .bind(id)
    .execute(connection)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Deletes a subscription and its history.
pub async fn delete(pool: &Pool, id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = super::write_transaction(pool).await?;
    let done = on_backend!(&mut tx, |connection| {
        sqlx::query("DELETE FROM deliveries WHERE subscription_id = $1")
            .bind(id)
            .execute(&mut *connection)
            .await?;
        sqlx::query("DELETE FROM subscriptions WHERE id = $1")
            .bind(id)
            .execute(connection)
            .await?
            .rows_affected()
    });
    tx.commit().await?;
    Ok(done == 1)
}

/// A delivery's status as stored; a value outside these fails the row's decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Recorded, waiting for its (re)try time.
    Pending,
    /// Claimed by the scheduler, being sent.
    Sending,
    Sent,
    Skipped,
    Failed,
}

impl From<DeliveryStatus> for DeliveryOutcome {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => DeliveryOutcome::Pending,
            DeliveryStatus::Sending => DeliveryOutcome::Sending,
            DeliveryStatus::Sent => DeliveryOutcome::Sent,
            DeliveryStatus::Skipped => DeliveryOutcome::Skipped,
            DeliveryStatus::Failed => DeliveryOutcome::Failed,
        }
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRecord {
    id: i64,
    subscription_id: i64,
    #[sqlx(try_from = "StoredTime")]
    scheduled_for: DateTime<Utc>,
    on_demand: bool,
    finished_at: Option<StoredTime>,
    recipients: Json<Vec<String>>,
    rows: Option<i64>,
    bytes: Option<i64>,
    attempts: i64,
    status: DeliveryStatus,
    error: Option<String>,
}

impl From<DeliveryRecord> for Delivery {
    fn from(r: DeliveryRecord) -> Self {
        Delivery {
            id: r.id,
            scheduled_for: r.scheduled_for,
            on_demand: r.on_demand,
            finished_at: r.finished_at.map(DateTime::from),
            recipients: r.recipients.0,
            rows: r.rows.and_then(|n| u64::try_from(n).ok()),
            bytes: r.bytes.and_then(|n| u64::try_from(n).ok()),
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            outcome: r.status.into(),
            error: r.error,
        }
    }
}

const SELECT_DELIVERIES: &str = "SELECT id, subscription_id, scheduled_for, on_demand, \
     finished_at, recipients, rows, bytes, attempts, status, error FROM deliveries";

/// One delivery, by id.
pub async fn delivery(pool: &Pool, id: i64) -> Result<Option<Delivery>, sqlx::Error> {
    let sql = format!("{SELECT_DELIVERIES} WHERE id = $1");
    let record: Option<DeliveryRecord> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(connection)
        .await?);
    Ok(record.map(Delivery::from))
}

/// A subscription's deliveries, newest first.
pub async fn deliveries(
    pool: &Pool,
    subscription_id: i64,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    let sql = format!("{SELECT_DELIVERIES} WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2");
    let records: Vec<DeliveryRecord> = on_backend!(pool, |connection| sqlx::query_as(&sql)
        .bind(subscription_id)
        .bind(limit)
        .fetch_all(connection)
        .await?);
    Ok(records.into_iter().map(Delivery::from).collect())
}

/// Records every due scheduled delivery and moves each subscription to its next time after
/// `now`: however long the server was down, a subscription gets one catch-up delivery, not one
/// per missed period. The unique (subscription, scheduled time) key makes a second look at the
/// same due time a no-op. Returns how many deliveries were recorded.
pub async fn record_due(
    pool: &Pool,
    now: DateTime<Utc>,
    next_after: impl Fn(&Schedule, DateTime<Utc>) -> Option<DateTime<Utc>>,
) -> Result<u64, sqlx::Error> {
    let now_text = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Most passes find nothing due: look before taking the write turn.
    let any_due: Option<i64> = on_backend!(pool, |connection| sqlx::query_scalar(
        "SELECT id FROM subscriptions WHERE enabled AND next_run_at <= $1 LIMIT 1",
    )
    .bind(&now_text)
    .fetch_optional(connection)
    .await?);
    if any_due.is_none() {
        return Ok(0);
    }
    let mut tx = super::write_transaction(pool).await?;
    // Several instances may record the same due time at once: the unique key keeps one.
    let recorded = on_backend!(&mut tx, |connection| {
        let due: Vec<DueSubscription> = sqlx::query_as(
            "SELECT id, next_run_at, schedule, recipients FROM subscriptions \
             WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= $1",
        )
        .bind(&now_text)
        .fetch_all(&mut *connection)
        .await?;
        let mut recorded = 0;
        for (id, scheduled_for, Json(schedule), recipients) in due {
            let done = sqlx::query(
                "INSERT INTO deliveries (subscription_id, scheduled_for, on_demand, status, \
                 recipients, created_at) VALUES ($1, $2, FALSE, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(scheduled_for)
            .bind(DeliveryStatus::Pending)
            .bind(recipients)
            .bind(StoredTime::now())
            .execute(&mut *connection)
            .await?;
            recorded += done.rows_affected();
            let next = next_after(&schedule, now);
            sqlx::query("UPDATE subscriptions SET next_run_at = $1 WHERE id = $2")
                .bind(next.map(StoredTime))
                .bind(id)
                .execute(&mut *connection)
                .await?;
        }
        recorded
    });
    tx.commit().await?;
    Ok(recorded)
}

/// A subscription whose time has come: id, the due time, schedule and recipients.
type DueSubscription = (i64, StoredTime, Json<Schedule>, Json<Vec<String>>);

/// Records a "Send now" delivery; returns its id.
pub async fn record_on_demand(pool: &Pool, subscription_id: i64) -> Result<i64, sqlx::Error> {
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    on_backend!(pool, |connection| sqlx::query_scalar(
        "INSERT INTO deliveries (subscription_id, scheduled_for, on_demand, status, recipients, \
         created_at) SELECT id, $1, TRUE, $2, recipients, $1 FROM subscriptions WHERE id = $3 \
         RETURNING id",
    )
    .bind(&now)
    .bind(DeliveryStatus::Pending)
    .bind(subscription_id)
    .fetch_one(connection)
    .await)
}

/// A recorded delivery with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingDelivery {
    pub id: i64,
    pub subscription_id: i64,
    #[sqlx(try_from = "StoredTime")]
    pub scheduled_for: DateTime<Utc>,
    pub attempts: i64,
}

/// Deliveries recorded but not sent whose (re)try time has come, oldest first.
pub async fn ready(pool: &Pool, now: DateTime<Utc>) -> Result<Vec<PendingDelivery>, sqlx::Error> {
    on_backend!(pool, |connection| sqlx::query_as(
        "SELECT id, subscription_id, scheduled_for, attempts FROM deliveries \
         WHERE status = $1 AND (retry_at IS NULL OR retry_at <= $2) ORDER BY id",
    )
    .bind(DeliveryStatus::Pending)
    .bind(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    .fetch_all(connection)
    .await)
}

/// Claims a pending delivery for sending; false when another worker (of this instance or
/// another on the same database) has it: the status changes only from pending, in one
/// statement, so one claim wins.
pub async fn claim(pool: &Pool, id: i64) -> Result<bool, sqlx::Error> {
    let done = on_backend!(pool, |connection| {
        sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = attempts + 1 WHERE id = $2 AND status = $3",
    )
    .bind(DeliveryStatus::Sending)
    .bind(id)
    .bind(DeliveryStatus::Pending)
    .execute(connection)
    .await?
    .rows_affected()
    });
    Ok(done == 1)
}

/// A delivery that was being sent when the server stopped: whether the mail left is unknown.
/// It is marked failed with that said, never sent again (no duplicates) and never hidden.
pub async fn fail_interrupted(pool: &Pool) -> Result<u64, sqlx::Error> {
    on_backend!(pool, |connection| {
        Ok(sqlx::query(
        "UPDATE deliveries SET status = $1, finished_at = $2, error = \
         'The server stopped while sending; the message may not have arrived. Use Send now to resend.' \
         WHERE status = $3",
    )
    .bind(DeliveryStatus::Failed)
    .bind(StoredTime::now())
    .bind(DeliveryStatus::Sending)
    .execute(connection)
    .await?
    .rows_affected())
    })
}

/// How a delivery attempt ended.
pub enum Finish {
    Sent {
        recipients: Vec<String>,
        rows: u64,
        bytes: u64,
    },
    Skipped {
        rows: u64,
    },
    /// Try again at `retry_at`.
    Retry {
        error: String,
        retry_at: DateTime<Utc>,
    },
    Failed {
        error: String,
    },
}

pub async fn finish(pool: &Pool, id: i64, finish: Finish) -> Result<(), sqlx::Error> {
    let now = StoredTime::now();
    on_backend!(pool, |connection| {
        let query = match &finish {
            Finish::Sent {
                recipients,
                rows,
                bytes,
            } => sqlx::query(
                "UPDATE deliveries SET status = $1, recipients = $2, rows = $3, bytes = $4, \
                 error = NULL, finished_at = $5 WHERE id = $6",
            )
            .bind(DeliveryStatus::Sent)
            .bind(Json(recipients.clone()))
            .bind(i64::try_from(*rows).unwrap_or(i64::MAX))
            .bind(i64::try_from(*bytes).unwrap_or(i64::MAX))
            .bind(now),
            Finish::Skipped { rows } => sqlx::query(
                "UPDATE deliveries SET status = $1, rows = $2, finished_at = $3 WHERE id = $4",
            )
            .bind(DeliveryStatus::Skipped)
            .bind(i64::try_from(*rows).unwrap_or(i64::MAX))
            .bind(now),
            Finish::Retry { error, retry_at } => sqlx::query(
                "UPDATE deliveries SET status = $1, error = $2, retry_at = $3 WHERE id = $4",
            )
            .bind(DeliveryStatus::Pending)
            .bind(error.clone())
            .bind(retry_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            Finish::Failed { error } => sqlx::query(
                "UPDATE deliveries SET status = $1, error = $2, finished_at = $3 WHERE id = $4",
            )
            .bind(DeliveryStatus::Failed)
            .bind(error.clone())
            .bind(now),
        };
        query.bind(id).execute(connection).await?.rows_affected()
    });
    Ok(())
}
