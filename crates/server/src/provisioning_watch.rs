//! The server's watch over provisioning, run by its scheduler: feeds new events into the log's
//! search index and hourly counts, mails a customer's recipients when its provisioning turns
//! Failing or its token nears expiry (once per state), and keeps the provisioning log within
//! its retention.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use provisio_api::provisioning::{ProvisioningState, ProvisioningStatus};

use crate::db;
use crate::db::Scope;
use crate::delivery::MailSettings;
use crate::provisioning_health::statuses;

/// Events removed per write transaction.
const RETENTION_BATCH: u32 = 1000;

/// States that mail the customer's recipients when a customer turns to them.
fn worth_telling(state: ProvisioningState) -> bool {
    matches!(
        state,
        ProvisioningState::Failing
            | ProvisioningState::TokenExpiring
            | ProvisioningState::TokenExpired
    )
}

/// One pass: each customer with recipients whose state turned to one worth telling gets one
/// message; a customer back to normal is told again next time. How many messages went.
pub async fn notify(pool: &db::Pool, mail: &MailSettings) -> Result<u32, sqlx::Error> {
    let mut sent = 0;
    let notified = db::provisioning_status::notified_customers(pool).await?;
    if notified.is_empty() {
        return Ok(0);
    }
    for status in statuses(pool, Scope::AllCustomers).await? {
        let Some((recipients, told)) = notified.get(&status.customer_id) else {
            continue;
        };
        let now_state = worth_telling(status.state).then(|| status.state.key());
        if now_state == told.as_deref() {
            continue;
        }
        // Recorded before sending: a message may be lost to a crash, never sent twice.
        let claimed = db::provisioning_status::mark_notified(
            pool,
            status.customer_id,
            told.as_deref(),
            now_state,
        )
        .await?;
        if !claimed || now_state.is_none() {
            continue;
        }
        match message(mail, recipients, &status) {
            Ok(message) => match mail.mailer.send(message).await {
                Ok(()) => sent += 1,
                Err(err) => tracing::error!(customer = status.customer_id, error = %err,
                    "provisioning notification not sent"),
            },
            Err(err) => tracing::error!(customer = status.customer_id, error = %err,
                "provisioning notification not built"),
        }
    }
    Ok(sent)
}

fn message(
    mail: &MailSettings,
    recipients: &[String],
    status: &ProvisioningStatus,
) -> Result<Message, String> {
    let link = format!(
        "{}/provisioning/logs?customer={}&status=failure",
        mail.public_url.trim_end_matches('/'),
        status.customer_id
    );
    let subject = format!(
        "Provisioning of {}: {}",
        status.customer_name,
        status.state.label()
    );
    let text = format!(
        "{subject}\n\n{}\n\nIn the last 24 hours: {} requests, {} failed.\n\nOpen the failures: {link}\n",
        status.reason, status.changes_24h, status.failures_24h
    );
    let html = format!(
        "<p><strong>{}</strong></p><p>{}</p><p>In the last 24 hours: {} requests, {} failed.</p>\
         <p><a href=\"{}\">Open the failures</a></p>",
        escape(&subject),
        escape(&status.reason),
        status.changes_24h,
        status.failures_24h,
        escape(&link)
    );
    let mut builder = Message::builder().from(mail.from.clone()).subject(subject);
    for recipient in recipients {
        let to: Mailbox = recipient
            .parse()
            .map_err(|e| format!("'{recipient}' is not an address: {e}"))?;
        builder = builder.to(to);
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(text))
                .singlepart(SinglePart::html(html)),
        )
        .map_err(|e| format!("the message could not be built: {e}"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Removes events older than `days`, a batch at a time; how many went.
pub async fn enforce_retention(
    pool: &db::Pool,
    days: u32,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let mut removed = 0;
    loop {
        let batch = db::provisioning_log::remove_older_than(pool, cutoff, RETENTION_BATCH).await?;
        removed += batch;
        if batch < u64::from(RETENTION_BATCH) {
            return Ok(removed);
        }
        // Let SCIM writes in between batches.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs the watch every `every`: indexing, notifications, then retention.
pub fn spawn(
    pool: db::Pool,
    mail: MailSettings,
    retention_days: u32,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = db::provisioning_log::index_new(&pool).await {
                tracing::error!(error = %err, "provisioning log indexing failed");
            }
            if let Err(err) = notify(&pool, &mail).await {
                tracing::error!(error = %err, "provisioning notification pass failed");
            }
            match enforce_retention(&pool, retention_days, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "removed provisioning events past retention"),
                Err(err) => tracing::error!(error = %err, "provisioning log retention failed"),
            }
        }
    })
}
