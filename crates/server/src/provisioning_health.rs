//! The provisioning log read for people: a customer's health from its facts, and one event's
//! steps and troubleshooting advice.

use chrono::{DateTime, Duration, Utc};
use provisio_api::provisioning::{
    EventKind, EventRow, EventStatus, EventStep, ProvisioningState, ProvisioningStatus, StepStatus,
    Troubleshooting,
};

use crate::db;
use crate::db::provisioning_status::{Facts, RECENT_REQUESTS};
use crate::db::Scope;

/// A token expiring within this is "Token expiring".
pub const EXPIRY_WARNING_DAYS: i64 = 7;
/// More than this share of the last hour's requests failing is "Degraded".
const DEGRADED_SHARE: f64 = 0.10;

/// The customer's state, with its reason in plain words. The first rule that holds wins, so a
/// customer whose token has expired is told that, not only that requests fail.
pub fn state_of(facts: &Facts, now: DateTime<Utc>) -> (ProvisioningState, String) {
    let recent_all_failed = facts.recent_outcomes.len() as i64 >= RECENT_REQUESTS
        && facts.recent_outcomes.iter().all(|o| o == "failure");
    let only_unauthorized = facts.requests_1h > 0 && facts.unauthorized_1h == facts.requests_1h;
    if facts.usable_tokens == 0 && facts.expired_tokens == 0 {
        return (
            ProvisioningState::NotConfigured,
            "No active SCIM token: generate one on the SCIM provisioning page.".to_owned(),
        );
    }
    if facts.usable_tokens == 0 {
        return (
            ProvisioningState::TokenExpired,
            "Every SCIM token has expired: the identity provider's requests are refused. \
             Generate a new token and enter it in the identity provider."
                .to_owned(),
        );
    }
    if recent_all_failed || only_unauthorized {
        let why = if only_unauthorized {
            format!(
                "every request of the last hour ({}) was refused for its token",
                facts.requests_1h
            )
        } else {
            format!("the last {RECENT_REQUESTS} requests all failed")
        };
        return (
            ProvisioningState::Failing,
            format!("Provisioning is failing: {why}. Open the failures in the log to see why."),
        );
    }
    if facts.requests_1h > 0 && facts.failures_1h as f64 / facts.requests_1h as f64 > DEGRADED_SHARE
    {
        let of = match facts.requests_1h {
            1 => "the only request of the last hour".to_owned(),
            n => format!("the last hour's {n} requests"),
        };
        return (
            ProvisioningState::Degraded,
            format!("{} of {of} failed.", facts.failures_1h),
        );
    }
    if let Some(until) = facts.usable_until {
        if until - now <= Duration::days(EXPIRY_WARNING_DAYS) {
            return (
                ProvisioningState::TokenExpiring,
                format!(
                    "The SCIM token expires on {} UTC: generate a new one and enter it in the \
                     identity provider before then.",
                    until.format("%Y-%m-%d %H:%M")
                ),
            );
        }
    }
    if facts.last_request_at.is_none() {
        return (
            ProvisioningState::Waiting,
            "A token is ready; the identity provider has not sent a request yet.".to_owned(),
        );
    }
    (
        ProvisioningState::Healthy,
        match facts.failures_24h {
            0 => "Every request of the last 24 hours succeeded.".to_owned(),
            n => format!(
                "{n} of the last 24 hours' {} requests failed; the latest succeed.",
                facts.requests_24h
            ),
        },
    )
}

/// Advice for a failed or warned event's code; None for one that succeeded.
pub fn troubleshooting(
    code: Option<&str>,
    existing_user: Option<(i64, String)>,
) -> Option<Troubleshooting> {
    let code = code?;
    let (reason, action) = match code {
        "uniqueness" => (
            "Another user or group of this customer already has this userName, email or name.",
            "Open the existing user: if it is the same person, link them in the identity \
             provider (match on userName or email); otherwise change one of the two.",
        ),
        "invalid_value" => (
            "The identity provider sent a value Provisio does not accept.",
            "Correct the attribute named in the error in the identity provider's attribute \
             mappings, then retry provisioning for the user.",
        ),
        "invalid_syntax" => (
            "The request was not valid SCIM (malformed JSON, filter or path).",
            "Check the identity provider's SCIM settings; if it persists, send the change ID to \
             support.",
        ),
        "stale_version" => (
            "The resource changed after the identity provider read it (If-Match).",
            "Nothing to do: the identity provider reads the resource again and retries.",
        ),
        "not_found" => (
            "The resource the request names does not exist for this customer (deleted, or \
             created under another token's customer).",
            "Restart provisioning in the identity provider so it creates the resource again.",
        ),
        "token_expired" => (
            "The SCIM token has expired.",
            "Generate a new token on the SCIM provisioning page and enter it as the secret \
             token in the identity provider.",
        ),
        "token_revoked" => (
            "The SCIM token was revoked.",
            "Generate a new token on the SCIM provisioning page and enter it as the secret \
             token in the identity provider.",
        ),
        "rate_limited" => (
            "The identity provider sent more requests per second than the token may make.",
            "Nothing to do: it retries after the time Provisio asked for. If this is \
             frequent, raise --scim-rate-limit.",
        ),
        "not_supported" => (
            "The identity provider asked for something Provisio's SCIM service does not do.",
            "Check the identity provider's SCIM settings for unsupported options.",
        ),
        _ => (
            "The server could not complete the request.",
            "The identity provider retries. If this persists, send the change ID to support.",
        ),
    };
    Some(Troubleshooting {
        code: code.to_owned(),
        reason: reason.to_owned(),
        action: action.to_owned(),
        existing_user_id: existing_user.as_ref().map(|(id, _)| *id),
        existing_user_email: existing_user.map(|(_, email)| email),
    })
}

/// The step a refusal with this troubleshooting code stopped at (1 authenticated, 2 matched,
/// 3 validated, 5 committed); none for a success.
fn failed_step(code: Option<&str>) -> usize {
    match code {
        Some("token_expired" | "token_revoked" | "unauthorized" | "rate_limited") => 1,
        Some("not_found") => 2,
        Some("uniqueness" | "invalid_value" | "invalid_syntax" | "stale_version") => 3,
        Some(_) => 5,
        None => usize::MAX,
    }
}

/// Whether the request's change placed a user by the mappings.
fn placement_detail(event: &EventRow) -> String {
    if event.identity.contains('@') && event.kind != EventKind::Delete {
        "The user's placement was re-evaluated by the customer's mappings".to_owned()
    } else {
        "Nothing to place".to_owned()
    }
}

/// How the request found (or did not find) the resource it changed.
fn matched_detail(event: &EventRow) -> String {
    match (event.action.as_str(), event.kind) {
        ("match", _) => "Matched an existing user of the customer and took it over".to_owned(),
        ("restore", EventKind::Restore) if event.target_id.is_some() => {
            "Matched the user by id (or a preserved user by userName or email)".to_owned()
        }
        (_, EventKind::Create) => "No existing resource matched: a new one".to_owned(),
        _ => match &event.target_id {
            Some(id) => format!("The resource with id {id}"),
            None => "By the request's id".to_owned(),
        },
    }
}

/// What happened to the request, step by step: received, authenticated, matched, validated,
/// placed, committed.
pub fn steps(event: &EventRow, code: Option<&str>) -> Vec<EventStep> {
    use StepStatus::*;
    let at = event.at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let step = |name: &str, status: StepStatus, detail: String| EventStep {
        name: name.to_owned(),
        status,
        detail,
    };
    if event.token_id.is_none() {
        // A placement or an admin's action: no identity provider request behind it.
        return vec![
            step(
                "Received",
                Success,
                format!("{} at {at}", event.source_system),
            ),
            step(
                "Committed",
                status_step(event.status),
                committed_detail(event),
            ),
        ];
    }
    let failed_at = failed_step(code);
    let reached = |i: usize| {
        if i < failed_at {
            Success
        } else if i == failed_at {
            Failure
        } else {
            NotReached
        }
    };
    let matched = matched_detail(event);
    let placement = placement_detail(event);
    vec![
        step(
            "Received",
            Success,
            format!("{} from {}", at, event.source_system),
        ),
        step(
            "Authenticated",
            reached(1),
            if failed_at == 1 {
                event.error.clone().unwrap_or_default()
            } else {
                "SCIM token accepted".to_owned()
            },
        ),
        step("Matched", reached(2), matched),
        step(
            "Validated",
            reached(3),
            if failed_at == 3 {
                event.error.clone().unwrap_or_default()
            } else {
                "Attributes and uniqueness checked".to_owned()
            },
        ),
        step(
            "Placed by mappings",
            match reached(4) {
                Success if placement == "Nothing to place" => Skipped,
                other => other,
            },
            placement,
        ),
        step(
            "Committed",
            match reached(5) {
                Success => status_step(event.status),
                other => other,
            },
            committed_detail(event),
        ),
    ]
}

fn status_step(status: EventStatus) -> StepStatus {
    match status {
        EventStatus::Success => StepStatus::Success,
        EventStatus::Skipped => StepStatus::Skipped,
        EventStatus::Failure | EventStatus::Warning => StepStatus::Failure,
    }
}

fn committed_detail(event: &EventRow) -> String {
    match event.status {
        EventStatus::Success => match event.duration_ms {
            Some(ms) => format!("Saved; the request took {ms} ms"),
            None => "Saved".to_owned(),
        },
        EventStatus::Skipped => "Nothing changed, so nothing was written".to_owned(),
        EventStatus::Failure | EventStatus::Warning => event
            .error
            .clone()
            .unwrap_or_else(|| "Not saved".to_owned()),
    }
}

/// The statuses of the customers in scope; one customer's comes with its hourly chart.
pub async fn statuses(
    pool: &crate::db::Pool,
    scope: Scope,
) -> Result<Vec<ProvisioningStatus>, sqlx::Error> {
    let now = Utc::now();
    let mut statuses = vec![];
    for facts in db::provisioning_status::facts(pool, scope, now).await? {
        let (state, reason) = state_of(&facts, now);
        let hourly = match scope {
            Scope::Customer(id) => db::provisioning_status::hourly(pool, id, now).await?,
            Scope::AllCustomers => vec![],
        };
        statuses.push(ProvisioningStatus {
            customer_id: facts.customer_id,
            customer_name: facts.customer_name,
            state,
            reason,
            scim_users: facts.scim_users,
            scim_groups: facts.scim_groups,
            last_request_at: facts.last_request_at,
            token_expires_at: facts.usable_until,
            changes_24h: facts.requests_24h,
            failures_24h: facts.failures_24h,
            changes_7d: facts.requests_7d,
            failures_7d: facts.failures_7d,
            hourly,
        });
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            customer_id: 1,
            customer_name: "Acme".to_owned(),
            usable_tokens: 1,
            usable_until: Some(Utc::now() + Duration::days(90)),
            last_request_at: Some(Utc::now()),
            ..Facts::default()
        }
    }

    #[test]
    fn each_state_follows_from_its_facts() {
        let now = Utc::now();
        let state = |f: &Facts| state_of(f, now).0;
        assert_eq!(state(&facts()), ProvisioningState::Healthy);
        assert_eq!(
            state(&Facts {
                usable_tokens: 0,
                usable_until: None,
                ..facts()
            }),
            ProvisioningState::NotConfigured
        );
        assert_eq!(
            state(&Facts {
                usable_tokens: 0,
                expired_tokens: 1,
                ..facts()
            }),
            ProvisioningState::TokenExpired
        );
        assert_eq!(
            state(&Facts {
                last_request_at: None,
                ..facts()
            }),
            ProvisioningState::Waiting
        );
        assert_eq!(
            state(&Facts {
                usable_until: Some(now + Duration::days(3)),
                ..facts()
            }),
            ProvisioningState::TokenExpiring
        );
        assert_eq!(
            state(&Facts {
                requests_1h: 10,
                failures_1h: 2,
                ..facts()
            }),
            ProvisioningState::Degraded
        );
        assert_eq!(
            state(&Facts {
                requests_1h: 10,
                failures_1h: 1,
                ..facts()
            }),
            ProvisioningState::Healthy,
            "exactly 10 % is not more than 10 %"
        );
        assert_eq!(
            state(&Facts {
                recent_outcomes: vec!["failure".to_owned(); 20],
                ..facts()
            }),
            ProvisioningState::Failing
        );
        let mut mostly = vec!["failure".to_owned(); 19];
        mostly.push("success".to_owned());
        assert_ne!(
            state(&Facts {
                recent_outcomes: mostly,
                ..facts()
            }),
            ProvisioningState::Failing
        );
        assert_eq!(
            state(&Facts {
                requests_1h: 4,
                unauthorized_1h: 4,
                failures_1h: 4,
                ..facts()
            }),
            ProvisioningState::Failing
        );
    }
}
