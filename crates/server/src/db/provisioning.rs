//! The provisioning log: one event per SCIM request that changed, or failed to change, a user
//! or a group.

use sqlx::{SqliteConnection, SqliteExecutor};

use super::admins::now_text;

pub struct Event<'a> {
    pub customer_id: i64,
    pub token_id: i64,
    /// Users: `create`, `update`, `preserve`, `restore`, `delete`; groups: `create_group`,
    /// `update_group` (name and membership changes), `delete_group`.
    pub action: &'a str,
    pub succeeded: bool,
    /// The identity provider's id of the user (externalId), when known.
    pub source_id: Option<&'a str>,
    /// Provisio's SCIM id of the user, when there is one.
    pub target_id: Option<&'a str>,
    /// `{"property": {"before": …, "after": …}}`
    pub changes: serde_json::Value,
    pub error: Option<&'a str>,
}

/// A successful change's entry, written in the same transaction as the change itself, so a
/// change is never without its entry (and costs one commit, not two).
pub struct Change<'a> {
    pub token_id: i64,
    pub action: &'a str,
    pub source_id: Option<&'a str>,
    pub changes: serde_json::Value,
}

impl Change<'_> {
    pub(super) async fn record(
        &self,
        tx: &mut SqliteConnection,
        customer_id: i64,
        target_id: &str,
    ) -> Result<(), sqlx::Error> {
        record(
            tx,
            &Event {
                customer_id,
                token_id: self.token_id,
                action: self.action,
                succeeded: true,
                source_id: self.source_id,
                target_id: Some(target_id),
                changes: self.changes.clone(),
                error: None,
            },
        )
        .await
    }
}

pub async fn record<'c>(
    executor: impl SqliteExecutor<'c>,
    event: &Event<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO provisioning_events (at, customer_id, token_id, action, outcome, source_id, \
         target_id, changes, error, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, \
         (SELECT id FROM users WHERE scim_id = ?))",
    )
    .bind(now_text())
    .bind(event.customer_id)
    .bind(event.token_id)
    .bind(event.action)
    .bind(if event.succeeded {
        "success"
    } else {
        "failure"
    })
    .bind(event.source_id)
    .bind(event.target_id)
    .bind(event.changes.to_string())
    .bind(event.error)
    .bind(event.target_id)
    .execute(executor)
    .await?;
    Ok(())
}
