//! Provisioning health and history: the MSP overview of every customer's provisioning state
//! (`/provisioning`), the provisioning log (`/provisioning/logs`), and the status panel the
//! SCIM page and the log show for one customer.

mod columns;
mod detail;
mod filters;
mod logs;
mod overview;
mod status;
mod table;

pub use logs::ProvisioningLogsPage;
pub use overview::ProvisioningOverviewPage;
pub use status::StatusPanel;

use provisio_api::provisioning::{EventQuery, EventStatus, ProvisioningState};

/// The log's address for a query.
pub fn logs_href(query: &EventQuery) -> String {
    let search = query.to_query_string();
    if search.is_empty() {
        "/provisioning/logs".to_owned()
    } else {
        format!("/provisioning/logs?{search}")
    }
}

/// The log of one customer's events, optionally of one status, over a date range.
pub fn customer_logs_href(customer_id: i64, status: Option<EventStatus>) -> String {
    logs_href(&EventQuery {
        customers: vec![customer_id],
        statuses: status.into_iter().collect(),
        ..EventQuery::default()
    })
}

/// The pill's tone for a state: fine, needs a look, or broken.
pub fn state_tone(state: ProvisioningState) -> &'static str {
    match state {
        ProvisioningState::Healthy => "ok",
        ProvisioningState::NotConfigured | ProvisioningState::Waiting => "off",
        ProvisioningState::TokenExpiring | ProvisioningState::Degraded => "warn",
        ProvisioningState::TokenExpired | ProvisioningState::Failing => "bad",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_into_the_log_carry_their_filters() {
        assert_eq!(logs_href(&EventQuery::default()), "/provisioning/logs");
        assert_eq!(
            customer_logs_href(7, Some(EventStatus::Failure)),
            "/provisioning/logs?status=failure&customer=7"
        );
    }
}
