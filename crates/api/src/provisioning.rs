//! The provisioning log and provisioning status: what identity providers did to each customer's
//! users and groups, and whether each customer's provisioning is healthy.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::report::{decode_pairs, encode_pairs, QueryError};

/// Events per page unless the query asks otherwise, and at most.
pub const DEFAULT_EVENT_PAGE: u32 = 100;
pub const MAX_EVENT_PAGE: u32 = 1000;

macro_rules! keyed_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $key:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_key(key: &str) -> Option<$name> {
                match key { $($key => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

keyed_enum!(
    /// The log's Action column: what kind of change an event was.
    EventKind {
        Create = "create" / "Create",
        Update = "update" / "Update",
        /// A user preserved (SCIM `active: false`, or by an admin).
        Disable = "disable" / "Disable",
        Restore = "restore" / "Restore",
        Delete = "delete" / "Delete",
        Other = "other" / "Other",
    }
);

keyed_enum!(
    /// How an event ended.
    EventStatus {
        Success = "success" / "Success",
        /// Refused: nothing was changed.
        Failure = "failure" / "Failure",
        /// Accepted, but there was nothing to change.
        Skipped = "skipped" / "Skipped",
        /// Not done now, to be retried by the client (rate limited).
        Warning = "warning" / "Warning",
    }
);

keyed_enum!(
    /// Which events a date filter keeps.
    DateRange {
        Day = "24h" / "Last 24 hours",
        Week = "7d" / "Last 7 days",
        Month = "30d" / "Last 30 days",
        /// Between `since` and `until`.
        Custom = "custom" / "Custom range",
    }
);

/// `GET /api/v1/provisioning/events`: which events, newest first unless `oldest_first`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub range: DateRange,
    /// With [`DateRange::Custom`]: the first and last UTC day kept (inclusive).
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub statuses: Vec<EventStatus>,
    pub kinds: Vec<EventKind>,
    pub customers: Vec<i64>,
    /// Source systems: SCIM token ids.
    pub tokens: Vec<i64>,
    /// Identity (name, email or group name) contains this, or a source, target or change id is it.
    pub search: String,
    pub oldest_first: bool,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            range: DateRange::Week,
            since: None,
            until: None,
            statuses: vec![],
            kinds: vec![],
            customers: vec![],
            tokens: vec![],
            search: String::new(),
            oldest_first: false,
        }
    }
}

/// The query parameters [`EventQuery`] is written as.
pub const EVENT_QUERY_KEYS: [&str; 9] = [
    "range", "since", "until", "status", "action", "customer", "token", "q", "sort",
];

impl EventQuery {
    /// The oldest and the newest instant kept at `now` (the newest is open-ended: None).
    pub fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        match self.range {
            DateRange::Day => (now - chrono::Duration::hours(24), None),
            DateRange::Week => (now - chrono::Duration::days(7), None),
            DateRange::Month => (now - chrono::Duration::days(30), None),
            DateRange::Custom => {
                let start = |day: NaiveDate| Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN));
                let since = self.since.map_or(DateTime::<Utc>::MIN_UTC, start);
                let until = self.until.and_then(|day| day.succ_opt()).map(start);
                (since, until)
            }
        }
    }

    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<EventQuery, QueryError> {
        let mut query = EventQuery::default();
        for (key, value) in pairs {
            // An empty search is no search; any other parameter given empty is a mistake.
            if value.is_empty() && key != "q" {
                if let Some(parameter) = EVENT_QUERY_KEYS.iter().find(|k| **k == key) {
                    return Err(QueryError::new(
                        parameter,
                        format!("give '{parameter}' a value or leave it out"),
                    ));
                }
                continue;
            }
            match key {
                "range" => {
                    query.range = DateRange::from_key(value).ok_or_else(|| {
                        QueryError::new("range", format!("'{value}' is not 24h, 7d, 30d or custom"))
                    })?;
                }
                "since" => query.since = Some(day("since", value)?),
                "until" => query.until = Some(day("until", value)?),
                "status" => query.statuses = keys("status", value, EventStatus::from_key)?,
                "action" => query.kinds = keys("action", value, EventKind::from_key)?,
                "customer" => query.customers = ids("customer", value)?,
                "token" => query.tokens = ids("token", value)?,
                "q" => {
                    if value.chars().count() > 200 {
                        return Err(QueryError::new("q", "search for at most 200 characters"));
                    }
                    // Control characters are never part of a name, email or id.
                    query.search = value
                        .chars()
                        .filter(|c| !c.is_control())
                        .collect::<String>()
                        .trim()
                        .to_owned();
                }
                "sort" => {
                    query.oldest_first = match value {
                        "at" => true,
                        "-at" => false,
                        _ => {
                            return Err(QueryError::new(
                                "sort",
                                format!("'{value}' is not a sort; use -at (newest first) or at"),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        // A range given end first means the same days.
        if let (Some(since), Some(until)) = (query.since, query.until) {
            if since > until {
                (query.since, query.until) = (Some(until), Some(since));
            }
        }
        Ok(query)
    }

    pub fn from_query_string(text: &str) -> Result<EventQuery, QueryError> {
        let pairs = decode_pairs(text)?;
        EventQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The parameters that differ from the default, in a fixed order.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![];
        let mut push = |key: &str, value: String| {
            if !value.is_empty() {
                pairs.push((key.to_owned(), value));
            }
        };
        if self.range != DateRange::Week {
            push("range", self.range.key().to_owned());
        }
        if self.range == DateRange::Custom {
            push(
                "since",
                self.since.map(|d| d.to_string()).unwrap_or_default(),
            );
            push(
                "until",
                self.until.map(|d| d.to_string()).unwrap_or_default(),
            );
        }
        push(
            "status",
            join(self.statuses.iter().map(|s| s.key().to_owned())),
        );
        push(
            "action",
            join(self.kinds.iter().map(|k| k.key().to_owned())),
        );
        push("customer", join(self.customers.iter().map(i64::to_string)));
        push("token", join(self.tokens.iter().map(i64::to_string)));
        push("q", self.search.clone());
        if self.oldest_first {
            push("sort", "at".to_owned());
        }
        pairs
    }

    pub fn to_query_string(&self) -> String {
        encode_pairs(&self.to_pairs())
    }
}

fn join(values: impl Iterator<Item = String>) -> String {
    values.collect::<Vec<_>>().join(",")
}

fn day(parameter: &'static str, text: &str) -> Result<NaiveDate, QueryError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| QueryError::new(parameter, format!("'{text}' is not a date (YYYY-MM-DD)")))
}

fn keys<T: Ord>(
    parameter: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, QueryError> {
    let mut values = text
        .split(',')
        .map(|key| {
            parse(key.trim()).ok_or_else(|| {
                QueryError::new(parameter, format!("'{key}' is not a known {parameter}"))
            })
        })
        .collect::<Result<Vec<T>, _>>()?;
    values.sort();
    values.dedup();
    Ok(values)
}

fn ids(parameter: &'static str, text: &str) -> Result<Vec<i64>, QueryError> {
    let mut values = text
        .split(',')
        .map(|id| {
            id.trim()
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| QueryError::new(parameter, format!("'{id}' is not an id")))
        })
        .collect::<Result<Vec<i64>, _>>()?;
    if values.len() > 200 {
        return Err(QueryError::new(parameter, "choose at most 200"));
    }
    values.sort_unstable();
    values.dedup();
    Ok(values)
}

/// One row of the provisioning log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who or what it concerned: the user's email (or userName), or the group's name.
    pub identity: String,
    pub kind: EventKind,
    /// The precise action: `create`, `update`, `preserve`, `restore`, `delete`, `match`,
    /// `place`, `create_group`, `update_group`, `delete_group`.
    pub action: String,
    pub status: EventStatus,
    pub customer_id: i64,
    pub customer_name: String,
    /// The identity provider and token name (`Microsoft Entra ID · Entra production`), "Mappings"
    /// for a placement, or the admin who acted.
    pub source_system: String,
    pub token_id: Option<i64>,
    /// The identity provider's id (externalId).
    pub source_id: Option<String>,
    /// Provisio's SCIM id.
    pub target_id: Option<String>,
    pub duration_ms: Option<i64>,
    /// The request's id, also sent back in its `X-Request-Id` header.
    pub request_id: Option<String>,
    /// Why it failed, in the server's words.
    pub error: Option<String>,
}

/// `GET /api/v1/provisioning/events`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    pub rows: Vec<EventRow>,
    pub next_cursor: Option<String>,
    /// Every event the query keeps; only on the first page.
    pub total: Option<u64>,
}

/// How far a step of a request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Success,
    Failure,
    Skipped,
    /// The request ended before this step.
    NotReached,
}

/// One step of a request: received, authenticated, matched, validated, placed, committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventStep {
    pub name: String,
    pub status: StepStatus,
    pub detail: String,
}

/// Why an event failed and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Troubleshooting {
    /// A stable code: `uniqueness`, `invalid_value`, `invalid_syntax`, `stale_version`,
    /// `not_found`, `token_expired`, `token_revoked`, `rate_limited`, `conflict`, `server_error`.
    pub code: String,
    pub reason: String,
    pub action: String,
    /// The existing user the request clashed with, when there is one the caller may see.
    pub existing_user_id: Option<i64>,
    /// That user's email, to name them.
    pub existing_user_email: Option<String>,
}

/// One property's value before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PropertyChange {
    pub property: String,
    /// Any JSON value; null when the property was not set.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub before: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub after: serde_json::Value,
}

/// `GET /api/v1/provisioning/events/{id}`: the detail panel's four tabs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventDetail {
    pub event: EventRow,
    pub steps: Vec<EventStep>,
    pub troubleshooting: Option<Troubleshooting>,
    pub changes: Vec<PropertyChange>,
    /// The user row the event concerns, for a link to the user page.
    pub user_id: Option<i64>,
    pub token_name: Option<String>,
    pub identity_provider: Option<String>,
    pub client_address: Option<String>,
    /// The HTTP status the client was answered.
    pub http_status: Option<u16>,
}

/// A value a filter offers, with how many events have it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventFacet<T> {
    pub value: T,
    pub label: String,
    pub count: u64,
}

/// `GET /api/v1/provisioning/events/facets`: the values that occur in the query's date range,
/// with counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventFacets {
    pub statuses: Vec<EventFacet<EventStatus>>,
    pub kinds: Vec<EventFacet<EventKind>>,
    pub customers: Vec<EventFacet<i64>>,
    pub tokens: Vec<EventFacet<i64>>,
}

keyed_enum!(
    /// A customer's provisioning health, worst last.
    ProvisioningState {
        NotConfigured = "not_configured" / "Not configured",
        Waiting = "waiting" / "Waiting for first request",
        Healthy = "healthy" / "Healthy",
        TokenExpiring = "token_expiring" / "Token expiring",
        Degraded = "degraded" / "Degraded",
        TokenExpired = "token_expired" / "Token expired",
        Failing = "failing" / "Failing",
    }
);

impl ProvisioningState {
    /// Whether an admin should act.
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            ProvisioningState::TokenExpiring
                | ProvisioningState::Degraded
                | ProvisioningState::TokenExpired
                | ProvisioningState::Failing
        )
    }
}

/// Changes and failures in one hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HourlyCount {
    /// The hour's start (UTC).
    pub hour: DateTime<Utc>,
    pub changes: u64,
    pub failures: u64,
}

/// One customer's provisioning status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvisioningStatus {
    pub customer_id: i64,
    pub customer_name: String,
    pub state: ProvisioningState,
    /// The state's reason in plain words.
    pub reason: String,
    pub scim_users: u64,
    pub scim_groups: u64,
    pub last_request_at: Option<DateTime<Utc>>,
    /// When the soonest-expiring active token expires.
    pub token_expires_at: Option<DateTime<Utc>>,
    pub changes_24h: u64,
    pub failures_24h: u64,
    pub changes_7d: u64,
    pub failures_7d: u64,
    /// The last 24 hours, oldest first; only in a single customer's status.
    pub hourly: Vec<HourlyCount>,
}

/// `GET/PUT /api/v1/customers/{customer_id}/provisioning/notifications`: who is mailed when
/// the customer's provisioning turns Failing or its token is about to expire.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettings {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::notification_recipients))]
    pub recipients: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_round_trip_through_the_url() {
        let query = EventQuery {
            range: DateRange::Custom,
            since: NaiveDate::from_ymd_opt(2026, 11, 1),
            until: NaiveDate::from_ymd_opt(2026, 11, 3),
            statuses: vec![EventStatus::Failure, EventStatus::Warning],
            kinds: vec![EventKind::Create],
            customers: vec![3, 9],
            tokens: vec![4],
            search: "smith, jo".to_owned(),
            oldest_first: true,
        };
        let text = query.to_query_string();
        assert_eq!(EventQuery::from_query_string(&text), Ok(query));
        assert_eq!(EventQuery::default().to_query_string(), "");
    }

    #[test]
    fn bad_parameters_name_themselves() {
        for (text, parameter) in [
            ("status=broken", "status"),
            ("action=create,nope", "action"),
            ("customer=-1", "customer"),
            ("range=1y", "range"),
            ("since=2026-13-01", "since"),
            ("sort=identity", "sort"),
            ("status=", "status"),
            ("range=custom&until=", "until"),
        ] {
            let err = EventQuery::from_query_string(text).expect_err(text);
            assert_eq!(err.parameter, parameter, "{text}");
        }
    }

    #[test]
    fn a_range_given_end_first_means_the_same_days() {
        let query = EventQuery::from_query_string("range=custom&since=2026-11-05&until=2026-11-01")
            .expect("valid");
        assert_eq!(query.since, NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(query.until, NaiveDate::from_ymd_opt(2026, 11, 5));
    }

    #[test]
    fn a_custom_range_keeps_whole_utc_days() {
        let query = EventQuery::from_query_string("range=custom&since=2026-11-01&until=2026-11-02")
            .expect("valid");
        let now = Utc::now();
        let (since, until) = query.window(now);
        assert_eq!(since.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(
            until.map(|u| u.to_rfc3339()).as_deref(),
            Some("2026-11-03T00:00:00+00:00")
        );
    }
}
