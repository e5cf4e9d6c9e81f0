//! Report subscriptions and their deliveries.

use super::Pool;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use provisio_api::report::{decode_columns, encode_columns, ExportFormat, ReportField};
use provisio_api::subscription::{
    Delivery, DeliveryOutcome, Schedule, SubscribedView, Subscription, SubscriptionOwner,
};

use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteTypeInfo, SqliteValueRef};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::admins::now_text;
use super::Principal;

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
    next_run_at: Option<DateTime<Utc>>,
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

impl sqlx::Type<Sqlite> for StoredColumns {
    fn type_info() -> SqliteTypeInfo {
        <String as sqlx::Type<Sqlite>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for StoredColumns {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<Sqlite>>::decode(value)?;
        if text.is_empty() {
            return Ok(StoredColumns(Vec::new()));
        }
        Ok(StoredColumns(
            decode_columns(text).map_err(|err| err.to_string())?,
        ))
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
            next_delivery: self.next_run_at,
            last_delivery,
        }
    }
}

/// The subscriptions `principal` may see.
pub async fn list(pool: &Pool, principal: &Principal) -> Result<Vec<Subscription>, sqlx::Error> {
    let pool = pool.sqlite()?;
    select(pool, principal.subscription_owner(), None).await
}

/// One subscription `principal` may see.
pub async fn find(
    pool: &Pool,
    principal: &Principal,
    id: i64,
) -> Result<Option<Subscription>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let owner = principal.subscription_owner();
    Ok(select(pool, owner, Some(id)).await?.into_iter().next())
}

/// Any subscription, for the scheduler, which then acts as the subscription's owner.
pub async fn find_to_deliver(pool: &Pool, id: i64) -> Result<Option<Subscription>, sqlx::Error> {
    let pool = pool.sqlite()?;
    Ok(select(pool, None, Some(id)).await?.into_iter().next())
}

/// The subscriptions of `owner` (everyone's when None; only `id`, when given), each with its
/// last delivery: two queries whatever the count.
async fn select(
    pool: &SqlitePool,
    owner: Option<i64>,
    id: Option<i64>,
) -> Result<Vec<Subscription>, sqlx::Error> {
    let records: Vec<SubscriptionRecord> = sqlx::query_as(&format!(
        "{SELECT_SUBSCRIPTIONS} WHERE (?1 IS NULL OR s.owner_id = ?1) AND (?2 IS NULL OR s.id = ?2) \
         ORDER BY s.name COLLATE NOCASE, s.id"
    ))
    .bind(owner)
    .bind(id)
    .fetch_all(pool)
    .await?;
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut last = QueryBuilder::<Sqlite>::new(format!(
        "{SELECT_DELIVERIES} WHERE id IN (SELECT max(id) FROM deliveries WHERE subscription_id IN ("
    ));
    let mut ids = last.separated(", ");
    for record in &records {
        ids.push_bind(record.id);
    }
    last.push(") GROUP BY subscription_id)");
    let mut last_deliveries: HashMap<i64, Delivery> = last
        .build_query_as::<DeliveryRecord>()
        .fetch_all(pool)
        .await?
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

fn time_text(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The content's columns, in the order `CONTENT_COLUMNS` names them.
const CONTENT_COLUMNS: &str = "name, view_kind, query, columns, saved_view_id, format, schedule, \
     recipients, skip_empty, enabled, next_run_at";

fn bind_content<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    content: &SubscriptionContent<'_>,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let (kind, text, columns, view_id) = match content.view {
        SubscribedView::Snapshot { query, columns } => {
            ("snapshot", query.clone(), encode_columns(columns), None)
        }
        SubscribedView::SavedView { view_id } => {
            ("saved_view", String::new(), String::new(), Some(*view_id))
        }
    };
    query
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
        .bind(time_text(content.next_run_at))
}

pub async fn insert(
    pool: &Pool,
    owner_id: i64,
    content: &SubscriptionContent<'_>,
) -> Result<i64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let now = now_text();
    let sql = format!(
        "INSERT INTO subscriptions ({CONTENT_COLUMNS}, owner_id, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
    );
    let row = bind_content(sqlx::query(&sql), content)
        .bind(owner_id)
        .bind(&now)
        .bind(&now)
        .fetch_one(pool)
        .await?;
    row.try_get("id")
}

pub async fn update(
    pool: &Pool,
    id: i64,
    content: &SubscriptionContent<'_>,
) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let assignments = CONTENT_COLUMNS
        .split(", ")
        .map(|column| format!("{column} = ?"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE subscriptions SET {assignments}, updated_at = ? WHERE id = ?");
    let done = bind_content(sqlx::query(&sql), content)
        .bind(now_text())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_owner(pool: &Pool, id: i64, owner_id: i64) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let done = sqlx::query("UPDATE subscriptions SET owner_id = ?, updated_at = ? WHERE id = ?")
        .bind(owner_id)
        .bind(now_text())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a subscription and its history.
pub async fn delete(pool: &Pool, id: i64) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let mut tx = super::write_transaction(pool).await?;
    sqlx::query("DELETE FROM deliveries WHERE subscription_id = ?")
        .bind(id)
        .execute(tx.sqlite()?)
        .await?;
    let done = sqlx::query("DELETE FROM subscriptions WHERE id = ?")
        .bind(id)
        .execute(tx.sqlite()?)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// A delivery's status as stored; a value outside these fails the row's decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
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
    scheduled_for: DateTime<Utc>,
    on_demand: bool,
    finished_at: Option<DateTime<Utc>>,
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
            finished_at: r.finished_at,
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
    let pool = pool.sqlite()?;
    let record: Option<DeliveryRecord> =
        sqlx::query_as(&format!("{SELECT_DELIVERIES} WHERE id = ?"))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(record.map(Delivery::from))
}

/// A subscription's deliveries, newest first.
pub async fn deliveries(
    pool: &Pool,
    subscription_id: i64,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    let pool = pool.sqlite()?;
    let records: Vec<DeliveryRecord> = sqlx::query_as(&format!(
        "{SELECT_DELIVERIES} WHERE subscription_id = ? ORDER BY id DESC LIMIT ?"
    ))
    .bind(subscription_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
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
    let pool = pool.sqlite()?;
    // Most passes find nothing due: look before taking the write turn.
    let any_due: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM subscriptions WHERE enabled = 1 AND next_run_at <= ? LIMIT 1",
    )
    .bind(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    .fetch_optional(pool)
    .await?;
    if any_due.is_none() {
        return Ok(0);
    }
    let mut tx = super::write_transaction(pool).await?;
    let due: Vec<(i64, DateTime<Utc>, Json<Schedule>, String)> = sqlx::query_as(
        "SELECT id, next_run_at, schedule, recipients FROM subscriptions \
         WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ?",
    )
    .bind(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    .fetch_all(tx.sqlite()?)
    .await?;
    let mut recorded = 0;
    for (id, scheduled_for, Json(schedule), recipients) in due {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO deliveries (subscription_id, scheduled_for, on_demand, status, \
             recipients, created_at) VALUES (?, ?, 0, ?, ?, ?)",
        )
        .bind(id)
        .bind(scheduled_for.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .bind(DeliveryStatus::Pending)
        .bind(&recipients)
        .bind(now_text())
        .execute(tx.sqlite()?)
        .await?;
        recorded += done.rows_affected();
        let next = next_after(&schedule, now);
        sqlx::query("UPDATE subscriptions SET next_run_at = ? WHERE id = ?")
            .bind(time_text(next))
            .bind(id)
            .execute(tx.sqlite()?)
            .await?;
    }
    tx.commit().await?;
    Ok(recorded)
}

/// Records a "Send now" delivery; returns its id.
pub async fn record_on_demand(pool: &Pool, subscription_id: i64) -> Result<i64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sqlx::query_scalar(
        "INSERT INTO deliveries (subscription_id, scheduled_for, on_demand, status, recipients, \
         created_at) SELECT id, ?, 1, ?, recipients, ? FROM subscriptions WHERE id = ? \
         RETURNING id",
    )
    .bind(&now)
    .bind(DeliveryStatus::Pending)
    .bind(&now)
    .bind(subscription_id)
    .fetch_one(pool)
    .await
}

/// A recorded delivery with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingDelivery {
    pub id: i64,
    pub subscription_id: i64,
    pub scheduled_for: DateTime<Utc>,
    pub attempts: i64,
}

/// Deliveries recorded but not sent whose (re)try time has come, oldest first.
pub async fn ready(pool: &Pool, now: DateTime<Utc>) -> Result<Vec<PendingDelivery>, sqlx::Error> {
    let pool = pool.sqlite()?;
    sqlx::query_as(
        "SELECT id, subscription_id, scheduled_for, attempts FROM deliveries \
         WHERE status = ? AND (retry_at IS NULL OR retry_at <= ?) ORDER BY id",
    )
    .bind(DeliveryStatus::Pending)
    .bind(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    .fetch_all(pool)
    .await
}

/// Claims a pending delivery for sending; false when another worker has it.
pub async fn claim(pool: &Pool, id: i64) -> Result<bool, sqlx::Error> {
    let pool = pool.sqlite()?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = ?, attempts = attempts + 1 WHERE id = ? AND status = ?",
    )
    .bind(DeliveryStatus::Sending)
    .bind(id)
    .bind(DeliveryStatus::Pending)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A delivery that was being sent when the server stopped: whether the mail left is unknown.
/// It is marked failed with that said, never sent again (no duplicates) and never hidden.
pub async fn fail_interrupted(pool: &Pool) -> Result<u64, sqlx::Error> {
    let pool = pool.sqlite()?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = ?, finished_at = ?, error = \
         'The server stopped while sending; the message may not have arrived. Use Send now to resend.' \
         WHERE status = ?",
    )
    .bind(DeliveryStatus::Failed)
    .bind(now_text())
    .bind(DeliveryStatus::Sending)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
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
    let pool = pool.sqlite()?;
    let now = now_text();
    let query = match finish {
        Finish::Sent {
            recipients,
            rows,
            bytes,
        } => sqlx::query(
            "UPDATE deliveries SET status = ?, recipients = ?, rows = ?, bytes = ?, \
             error = NULL, finished_at = ? WHERE id = ?",
        )
        .bind(DeliveryStatus::Sent)
        .bind(Json(recipients))
        .bind(i64::try_from(rows).unwrap_or(i64::MAX))
        .bind(i64::try_from(bytes).unwrap_or(i64::MAX))
        .bind(now),
        Finish::Skipped { rows } => {
            sqlx::query("UPDATE deliveries SET status = ?, rows = ?, finished_at = ? WHERE id = ?")
                .bind(DeliveryStatus::Skipped)
                .bind(i64::try_from(rows).unwrap_or(i64::MAX))
                .bind(now)
        }
        Finish::Retry { error, retry_at } => {
            sqlx::query("UPDATE deliveries SET status = ?, error = ?, retry_at = ? WHERE id = ?")
                .bind(DeliveryStatus::Pending)
                .bind(error)
                .bind(retry_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        Finish::Failed { error } => {
            sqlx::query("UPDATE deliveries SET status = ?, error = ?, finished_at = ? WHERE id = ?")
                .bind(DeliveryStatus::Failed)
                .bind(error)
                .bind(now)
        }
    };
    query.bind(id).execute(pool).await?;
    Ok(())
}
