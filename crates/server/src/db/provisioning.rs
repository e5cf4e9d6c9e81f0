//! The provisioning log: one event per SCIM request that changed, or failed to change, a user
//! or a group, and per placement by a mapping or an admin's hand.

use std::time::Instant;

use super::time::StoredTime;
use super::{on_backend, Executor};
use provisio_api::provisioning::{EventKind, EventStatus};

/// The HTTP request behind an event: its id (sent back as `X-Request-Id`), where it came from
/// and when it arrived.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    pub request_id: Option<String>,
    pub client_address: Option<String>,
    pub started: Option<Instant>,
}

impl RequestOrigin {
    /// Milliseconds since the request arrived.
    fn elapsed_ms(&self) -> Option<i64> {
        self.started
            .map(|started| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX))
    }
}

/// The log's Action column for a precise action.
pub fn kind_of(action: &str) -> EventKind {
    match action {
        "create" | "create_group" | "match" => EventKind::Create,
        "update" | "update_group" | "place" => EventKind::Update,
        "preserve" => EventKind::Disable,
        "restore" => EventKind::Restore,
        "delete" | "delete_group" => EventKind::Delete,
        _ => EventKind::Other,
    }
}

/// A refused request's entry.
pub struct Event<'a> {
    pub customer_id: i64,
    pub token_id: i64,
    /// Users: `create`, `update`, `preserve`, `restore`, `delete`, `read`; groups:
    /// `create_group`, `update_group` (name and membership changes), `delete_group`.
    pub action: &'a str,
    pub status: EventStatus,
    /// The user's userName or the group's name, as the request gave it.
    pub identity: &'a str,
    /// The identity provider's id of the user (externalId), when known.
    pub source_id: Option<&'a str>,
    /// Provisio's SCIM id of the user, when there is one.
    pub target_id: Option<&'a str>,
    /// `{"property": {"before": …, "after": …}}`: what the request tried.
    pub changes: serde_json::Value,
    pub error: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub http_status: Option<u16>,
    pub origin: &'a RequestOrigin,
}

/// A successful change's entry, written in the same transaction as the change itself, so a
/// change is never without its entry (and costs one commit, not two).
pub struct Change<'a> {
    pub token_id: i64,
    pub action: &'a str,
    pub identity: String,
    pub source_id: Option<&'a str>,
    pub changes: serde_json::Value,
    pub origin: &'a RequestOrigin,
}

impl Change<'_> {
    pub(super) async fn record<'a>(
        &self,
        tx: impl Into<Executor<'a>>,
        customer_id: i64,
        target_id: &str,
    ) -> Result<(), sqlx::Error> {
        // An update that changes nothing is answered 200 but is no change: the log says so.
        let unchanged = self.changes.as_object().is_some_and(|c| c.is_empty())
            && kind_of(self.action) == EventKind::Update;
        record(
            tx,
            &Event {
                customer_id,
                token_id: self.token_id,
                action: self.action,
                status: if unchanged {
                    EventStatus::Skipped
                } else {
                    EventStatus::Success
                },
                identity: &self.identity,
                source_id: self.source_id,
                target_id: Some(target_id),
                changes: self.changes.clone(),
                error: None,
                error_code: None,
                http_status: None,
                origin: self.origin,
            },
        )
        .await
    }
}

pub async fn record<'a>(
    executor: impl Into<Executor<'a>>,
    event: &Event<'_>,
) -> Result<(), sqlx::Error> {
    on_backend!(executor, |connection| sqlx::query(
        "INSERT INTO provisioning_events (at, customer_id, token_id, action, kind, outcome, \
         identity, source_id, target_id, changes, error, error_code, http_status, request_id, \
         duration_ms, client_address, user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         (SELECT id FROM users WHERE scim_id = $9))",
    )
    .bind(StoredTime::now())
    .bind(event.customer_id)
    .bind(event.token_id)
    .bind(event.action)
    .bind(kind_of(event.action).key())
    .bind(event.status.key())
    .bind(event.identity)
    .bind(event.source_id)
    .bind(event.target_id)
    .bind(event.changes.to_string())
    .bind(event.error)
    .bind(event.error_code)
    .bind(event.http_status.map(i64::from))
    .bind(event.origin.request_id.as_deref())
    .bind(event.origin.elapsed_ms())
    .bind(event.origin.client_address.as_deref())
    .execute(connection)
    .await?
    .rows_affected());
    Ok(())
}
