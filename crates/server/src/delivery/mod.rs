//! Subscription deliveries: the scheduler that finds due subscriptions, and the sending of one
//! delivery (the report export, mailed).
//!
//! Recorded exactly once, sent at most once: a delivery is recorded (`pending`) before anything
//! is sent, keyed by subscription and scheduled time, and claimed (`sending`) before the mail
//! goes out. After a restart, pending deliveries are sent; one caught mid-send is marked failed
//! with that said, since whether its mail left is unknown, so nothing is sent twice and nothing
//! vanishes unrecorded.

pub mod mail;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lettre::message::Mailbox;
use provisio_api::report::{
    decode_pairs, encode_columns, encode_pairs, Direction, ReportField, ReportQuery,
};
use provisio_api::subscription::{Delivery, SubscribedView, Subscription};

use crate::db::subscriptions::{Finish, PendingDelivery};
use crate::db::{self, Principal};
use crate::export;
use mail::{Mailer, ReportMail};

/// How mail leaves, and what messages link back to.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub mailer: Mailer,
    pub from: Mailbox,
    /// The console's address as recipients reach it, for links in messages.
    pub public_url: String,
}

/// Sends deliveries; shared by the scheduler and "Send now".
#[derive(Debug, Clone)]
pub struct Deliverer {
    pool: db::Pool,
    settings: Arc<MailSettings>,
    /// Waits before the second, third… attempt after a failed send.
    retry_delays: Vec<Duration>,
}

/// Waits between attempts when the mail server fails: three more tries over about 35 minutes.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
];

impl Deliverer {
    pub fn new(pool: impl Into<db::Pool>, settings: MailSettings) -> Deliverer {
        Deliverer {
            pool: pool.into(),
            settings: Arc::new(settings),
            retry_delays: RETRY_DELAYS.to_vec(),
        }
    }

    /// The same, with other waits between attempts (tests use short ones).
    pub fn with_retry_delays(mut self, delays: Vec<Duration>) -> Deliverer {
        self.retry_delays = delays;
        self
    }

    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    /// Once at start-up: deliveries cut off mid-send by a stop are marked failed.
    pub async fn recover(&self) -> Result<u64, sqlx::Error> {
        db::subscriptions::fail_interrupted(&self.pool).await
    }

    /// One pass of the scheduler at `now`: record what is due, then send what is ready.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        db::subscriptions::record_due(&self.pool, now, |schedule, after| {
            schedule.next_after(after)
        })
        .await?;
        for pending in db::subscriptions::ready(&self.pool, now).await? {
            self.deliver(&pending).await?;
        }
        Ok(())
    }

    /// "Send now": a real delivery, recorded like a scheduled one, sent at once.
    pub async fn send_now(&self, subscription_id: i64) -> Result<Option<Delivery>, sqlx::Error> {
        let id = db::subscriptions::record_on_demand(&self.pool, subscription_id).await?;
        let pending = PendingDelivery {
            id,
            subscription_id,
            scheduled_for: Utc::now(),
            attempts: 0,
        };
        self.deliver(&pending).await?;
        db::subscriptions::delivery(&self.pool, id).await
    }

    /// Sends one recorded delivery, unless another worker has claimed it.
    async fn deliver(&self, pending: &PendingDelivery) -> Result<(), sqlx::Error> {
        if !db::subscriptions::claim(&self.pool, pending.id).await? {
            return Ok(());
        }
        let finish = match self.attempt(pending).await? {
            Attempt::Sent {
                recipients,
                rows,
                bytes,
            } => Finish::Sent {
                recipients,
                rows,
                bytes,
            },
            Attempt::Skipped { rows } => Finish::Skipped { rows },
            Attempt::Refused(error) => Finish::Failed { error },
            Attempt::MailFailed(error) => {
                // `attempts` was read before this attempt: 0 on the first.
                let before = usize::try_from(pending.attempts).unwrap_or(usize::MAX);
                match self.retry_delays.get(before) {
                    Some(delay) => {
                        let retry_at = Utc::now()
                            + chrono::Duration::from_std(*delay).unwrap_or(chrono::Duration::MAX);
                        Finish::Retry {
                            error: format!(
                                "{error}; retrying at {}",
                                retry_at.format("%H:%M:%S UTC")
                            ),
                            retry_at,
                        }
                    }
                    None => Finish::Failed {
                        error: format!("{error} (gave up after {} attempts)", before + 1),
                    },
                }
            }
        };
        crate::metrics::delivery(match finish {
            Finish::Sent { .. } => "sent",
            Finish::Skipped { .. } => "skipped",
            Finish::Retry { .. } => "retry",
            Finish::Failed { .. } => "failed",
        });
        db::subscriptions::finish(&self.pool, pending.id, finish).await
    }

    /// Plan, render, send: each step may end the attempt with a reason.
    async fn attempt(&self, pending: &PendingDelivery) -> Result<Attempt, sqlx::Error> {
        let plan = match self.plan(pending).await? {
            Ok(plan) => plan,
            Err(reason) => return Ok(Attempt::Refused(reason)),
        };
        let report = match self.render(&plan).await? {
            Ok(report) => report,
            Err(attempt) => return Ok(attempt),
        };
        Ok(self.send(&plan, report).await)
    }

    /// What to send and to whom, as the subscription and its owner's access are now; the
    /// reason when there is nothing to send.
    async fn plan(&self, pending: &PendingDelivery) -> Result<Result<Plan, String>, sqlx::Error> {
        let Some(subscription) =
            db::subscriptions::find_to_deliver(&self.pool, pending.subscription_id).await?
        else {
            return Ok(Err("The subscription no longer exists.".into()));
        };
        // The owner's access now, not when the subscription was made.
        let owner = match db::admins::find(&self.pool, subscription.owner.id).await? {
            Some(owner) if !owner.disabled => Principal::of_admin(&owner),
            _ => {
                return Ok(Err(format!(
                    "Its owner {} is disabled; an MSP admin can take the subscription over.",
                    subscription.owner.email
                )))
            }
        };
        let (query_text, columns) = match &subscription.view {
            SubscribedView::Snapshot { query, columns } => (query.clone(), columns.clone()),
            SubscribedView::SavedView { view_id } => {
                let view =
                    db::views::find(&self.pool, &owner, db::views::USER_PROVISIONING, *view_id)
                        .await?;
                let Some(view) = view else {
                    return Ok(Err(
                        "The saved view it follows was deleted or is no longer \
                                   shared with its owner."
                            .into(),
                    ));
                };
                (view.query, view.columns)
            }
        };
        Ok(Plan::new(subscription, owner, query_text, columns))
    }

    /// The export as a file, with its row count; an attempt's end when it is empty and
    /// empty reports are skipped, or it cannot be made.
    async fn render(&self, plan: &Plan) -> Result<Result<Rendered, Attempt>, sqlx::Error> {
        let now = Utc::now();
        let scope = plan.owner.scope();
        let rows_seen = Arc::new(AtomicU64::new(0));
        let counted = {
            let rows_seen = Arc::clone(&rows_seen);
            db::report::stream(self.pool.clone(), scope, plan.query.clone(), now).inspect(
                move |row| {
                    if row.is_ok() {
                        rows_seen.fetch_add(1, Ordering::Relaxed);
                    }
                },
            )
        };
        let mut file = Vec::new();
        let chunks = export::encode(counted, plan.columns.clone(), plan.subscription.format);
        futures_util::pin_mut!(chunks);
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(bytes) => file.extend_from_slice(&bytes),
                Err(export::ExportError::Database(err)) => return Err(err),
                Err(err) => return Ok(Err(Attempt::Refused(err.to_string()))),
            }
        }
        let rows = rows_seen.load(Ordering::Relaxed);
        if rows == 0 && plan.subscription.skip_empty {
            return Ok(Err(Attempt::Skipped { rows }));
        }
        let scope_label = db::customers::label(&self.pool, scope).await?;
        Ok(Ok(Rendered {
            file_name: export::file_name(&scope_label, plan.subscription.format, now),
            file,
            rows,
            scope_label,
            now,
        }))
    }

    /// The message with the file attached, through the mailer.
    async fn send(&self, plan: &Plan, report: Rendered) -> Attempt {
        let subscription = &plan.subscription;
        let summary = Summary {
            subscription,
            query: &plan.query,
            query_text: &plan.query_text,
            rows: report.rows,
            scope_label: &report.scope_label,
            now: report.now,
            file_name: &report.file_name,
            public_url: &self.settings.public_url,
        };
        let bytes = report.file.len() as u64;
        let message = ReportMail {
            from: &self.settings.from,
            to: &plan.recipients,
            subject: &summary.subject(),
            text: summary.text(),
            html: summary.html(),
            file_name: &report.file_name,
            content_type: subscription.format.content_type(),
            attachment: report.file,
        }
        .build();
        let message = match message {
            Ok(message) => message,
            Err(error) => return Attempt::Refused(error),
        };
        match self.settings.mailer.send(message).await {
            Ok(()) => Attempt::Sent {
                recipients: subscription.recipients.clone(),
                rows: report.rows,
                bytes,
            },
            Err(error) => Attempt::MailFailed(error),
        }
    }
}

/// A delivery ready to render: the subscription, whose access it runs with, and its view
/// read and checked.
struct Plan {
    subscription: Subscription,
    owner: Principal,
    query_text: String,
    query: ReportQuery,
    columns: Vec<ReportField>,
    recipients: Vec<Mailbox>,
}

impl Plan {
    /// Checks the view and recipients; the reason when they are not valid. No `columns`
    /// means the report's own.
    fn new(
        subscription: Subscription,
        owner: Principal,
        query_text: String,
        columns: Vec<ReportField>,
    ) -> Result<Plan, String> {
        let query = ReportQuery::from_query_string(&query_text)
            .map_err(|err| format!("Its view is not valid: {err}"))?;
        let columns = if columns.is_empty() {
            ReportField::SEED.to_vec()
        } else {
            columns
        };
        let recipients = subscription
            .recipients
            .iter()
            .map(|r| r.parse::<Mailbox>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "A recipient's address is not valid.".to_owned())?;
        Ok(Plan {
            subscription,
            owner,
            query_text,
            query,
            columns,
            recipients,
        })
    }
}

/// The export of one delivery.
struct Rendered {
    file: Vec<u8>,
    file_name: String,
    rows: u64,
    scope_label: String,
    now: DateTime<Utc>,
}

enum Attempt {
    Sent {
        recipients: Vec<String>,
        rows: u64,
        bytes: u64,
    },
    Skipped {
        rows: u64,
    },
    /// Nothing to send, for a reason retrying will not fix.
    Refused(String),
    /// The mail server failed; worth retrying.
    MailFailed(String),
}

/// Runs the scheduler: a pass every `every`, until `stop` turns true. A pass under way when
/// the stop comes finishes first (its delivery is sent and recorded), so a stopping server
/// leaves no delivery claimed; await the handle to wait for that.
pub fn spawn_scheduler(
    deliverer: Deliverer,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match deliverer.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                deliveries = n,
                "deliveries interrupted by a stop are marked failed"
            ),
            Err(err) => tracing::error!(error = %err, "could not check for interrupted deliveries"),
        }
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
            if let Err(err) = deliverer.tick(Utc::now()).await {
                tracing::error!(error = %err, "subscription scheduler pass failed");
            }
        }
    })
}

/// The words of a report message.
struct Summary<'a> {
    subscription: &'a Subscription,
    query: &'a ReportQuery,
    query_text: &'a str,
    rows: u64,
    scope_label: &'a str,
    now: DateTime<Utc>,
    file_name: &'a str,
    public_url: &'a str,
}

impl Summary<'_> {
    fn subject(&self) -> String {
        format!(
            "{}: {} {} in User Provisioning ({} UTC)",
            self.subscription.name,
            self.rows,
            if self.rows == 1 { "user" } else { "users" },
            self.now.format("%Y-%m-%d %H:%M")
        )
    }

    fn link(&self) -> String {
        let base = self.public_url.trim_end_matches('/');
        match self.subscription.view {
            SubscribedView::SavedView { view_id } => format!("{base}/?view={view_id}"),
            SubscribedView::Snapshot { ref columns, .. } => {
                let mut pairs = decode_pairs(self.query_text).unwrap_or_default();
                if !columns.is_empty() {
                    pairs.push(("cols".to_owned(), encode_columns(columns)));
                }
                if pairs.is_empty() {
                    format!("{base}/")
                } else {
                    format!("{base}/?{}", encode_pairs(&pairs))
                }
            }
        }
    }

    /// (label, value) lines describing the view.
    fn facts(&self) -> Vec<(&'static str, String)> {
        let filters = if self.query.filters.is_empty() {
            "none".to_owned()
        } else {
            self.query
                .filters
                .iter()
                .map(|f| f.describe())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let plans = if self.query.service_plans.is_empty() {
            "all".to_owned()
        } else {
            self.query.service_plans.join(", ")
        };
        let direction = match self.query.sort.direction {
            Direction::Ascending => "ascending",
            Direction::Descending => "descending",
        };
        vec![
            ("Users", self.rows.to_string()),
            ("Customers", self.scope_label.to_owned()),
            ("Filters", filters),
            ("Service plans", plans),
            (
                "Sorted by",
                format!("{} ({direction})", self.query.sort.field.label()),
            ),
            ("Schedule", self.subscription.schedule_text.clone()),
            ("Attached", self.file_name.to_owned()),
        ]
    }

    fn text(&self) -> String {
        let mut text = format!(
            "{}\n\nThe User Provisioning report as of {} UTC.\n\n",
            self.subscription.name,
            self.now.format("%Y-%m-%d %H:%M")
        );
        for (label, value) in self.facts() {
            text.push_str(&format!("{label}: {value}\n"));
        }
        text.push_str(&format!(
            "\nOpen this view in Provisio: {}\nManage your subscriptions: {}/subscriptions\n",
            self.link(),
            self.public_url.trim_end_matches('/')
        ));
        text
    }

    fn html(&self) -> String {
        let rows: String = self
            .facts()
            .into_iter()
            .map(|(label, value)| {
                format!(
                    "<tr><th align=\"left\" style=\"padding:4px 12px 4px 0\">{}</th><td>{}</td></tr>",
                    escape(label),
                    escape(&value)
                )
            })
            .collect();
        format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1d2433\">\
             <h2 style=\"margin:0 0 8px\">{}</h2>\
             <p>The User Provisioning report as of {} UTC.</p>\
             <table style=\"border-collapse:collapse\">{rows}</table>\
             <p><a href=\"{}\">Open this view in Provisio</a> · \
             <a href=\"{}/subscriptions\">Manage your subscriptions</a></p>\
             </body></html>",
            escape(&self.subscription.name),
            self.now.format("%Y-%m-%d %H:%M"),
            escape(&self.link()),
            escape(self.public_url.trim_end_matches('/'))
        )
    }
}

/// Text as HTML text or attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}
