//! Report subscriptions: the User Provisioning report delivered by email on a schedule.
//!
//! Schedules are UTC only, so there is no daylight saving to handle; the arithmetic lives here
//! so that the page's preview of the next deliveries and the server's scheduler agree.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::report::{ExportFormat, ReportField};

/// Most recipients one subscription may have.
pub const MAX_RECIPIENTS: usize = 20;
/// Longest subscription name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Weekday::Mon => "Monday",
            Weekday::Tue => "Tuesday",
            Weekday::Wed => "Wednesday",
            Weekday::Thu => "Thursday",
            Weekday::Fri => "Friday",
            Weekday::Sat => "Saturday",
            Weekday::Sun => "Sunday",
        }
    }

    pub fn short(self) -> &'static str {
        &self.label()[..3]
    }

    fn of(date: NaiveDate) -> Weekday {
        Weekday::ALL[date.weekday().num_days_from_monday() as usize]
    }
}

/// The day of the month a monthly delivery falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthDay {
    /// 1 to 31; in a shorter month, its last day.
    Day(u8),
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "every", rename_all = "snake_case")]
pub enum Recurrence {
    Day,
    /// On each of these weekdays (at least one).
    Week {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::weekdays))]
        weekdays: Vec<Weekday>,
    },
    Month {
        day: MonthDay,
    },
}

/// When deliveries happen: a recurrence at a time of day, in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    pub recurrence: Recurrence,
    /// 0–23, UTC.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 23))]
    pub hour: u8,
    /// 0–59.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 59))]
    pub minute: u8,
}

/// What is wrong with a schedule, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError(pub String);

impl Schedule {
    pub fn check(&self) -> Result<(), ScheduleError> {
        if self.hour > 23 || self.minute > 59 {
            return Err(ScheduleError(
                "The time must be between 00:00 and 23:59 UTC.".into(),
            ));
        }
        match &self.recurrence {
            Recurrence::Week { weekdays } if weekdays.is_empty() => {
                Err(ScheduleError("Pick at least one weekday.".into()))
            }
            Recurrence::Week { weekdays }
                if weekdays
                    .iter()
                    .enumerate()
                    .any(|(at, day)| weekdays[..at].contains(day)) =>
            {
                Err(ScheduleError("Pick each weekday once.".into()))
            }
            Recurrence::Month {
                day: MonthDay::Day(day),
            } if !(1..=31).contains(day) => Err(ScheduleError(
                "The day of the month must be 1 to 31, or the last day.".into(),
            )),
            _ => Ok(()),
        }
    }

    fn time(&self) -> NaiveTime {
        NaiveTime::from_hms_opt(
            u32::from(self.hour.min(23)),
            u32::from(self.minute.min(59)),
            0,
        )
        .unwrap_or(NaiveTime::MIN)
    }

    /// Whether a delivery falls on `date`.
    fn falls_on(&self, date: NaiveDate) -> bool {
        match &self.recurrence {
            Recurrence::Day => true,
            Recurrence::Week { weekdays } => weekdays.contains(&Weekday::of(date)),
            Recurrence::Month { day } => {
                let last = last_day_of_month(date);
                let wanted = match day {
                    MonthDay::Last => last,
                    MonthDay::Day(day) => u32::from(*day).min(last),
                };
                date.day() == wanted
            }
        }
    }

    /// The first delivery strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut date = after.date_naive();
        // Any recurrence falls at least once in 31 days; 370 covers a year of weekly gaps.
        for _ in 0..370 {
            if self.falls_on(date) {
                let at = Utc.from_utc_datetime(&date.and_time(self.time()));
                if at > after {
                    return Some(at);
                }
            }
            date = date.checked_add_days(Days::new(1))?;
        }
        None
    }

    /// The next `count` deliveries after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut times = Vec::with_capacity(count);
        let mut from = after;
        while times.len() < count {
            match self.next_after(from) {
                Some(at) => {
                    times.push(at);
                    from = at;
                }
                None => break,
            }
        }
        times
    }

    /// "Every Monday and Thursday at 07:00 UTC", "On the last day of every month at 23:30 UTC".
    pub fn describe(&self) -> String {
        let at = format!("at {:02}:{:02} UTC", self.hour, self.minute);
        match &self.recurrence {
            Recurrence::Day => format!("Every day {at}"),
            Recurrence::Week { weekdays } => {
                let mut days = weekdays.clone();
                days.sort();
                days.dedup();
                let names: Vec<&str> = days.iter().map(|d| d.label()).collect();
                let list = match names.as_slice() {
                    [] => "—".to_owned(),
                    [one] => (*one).to_owned(),
                    [init @ .., last] => format!("{} and {last}", init.join(", ")),
                };
                format!("Every {list} {at}")
            }
            Recurrence::Month {
                day: MonthDay::Last,
            } => format!("On the last day of every month {at}"),
            Recurrence::Month {
                day: MonthDay::Day(day),
            } => format!("On day {day} of every month {at}"),
        }
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let (year, month) = (date.year(), date.month());
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    first_of_next
        .and_then(|d| d.pred_opt())
        .map(|d| d.day())
        .unwrap_or(28)
}

/// What a subscription delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubscribedView {
    /// The report as it was when the subscription was saved: the query string (filters,
    /// service plans, sort) and the visible columns in order (none: the report's own).
    Snapshot {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::report_query_string))]
        query: String,
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::snapshot_columns))]
        columns: Vec<ReportField>,
    },
    /// A saved view, followed as it changes.
    SavedView {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
        view_id: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Recorded, not sent yet.
    Pending,
    /// Being sent now.
    Sending,
    Sent,
    /// Not sent: the report was empty and the subscription skips empty reports.
    Skipped,
    Failed,
}

impl DeliveryOutcome {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Pending => "Pending",
            DeliveryOutcome::Sending => "Sending",
            DeliveryOutcome::Sent => "Sent",
            DeliveryOutcome::Skipped => "Skipped (empty)",
            DeliveryOutcome::Failed => "Failed",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            DeliveryOutcome::Pending => "pending",
            DeliveryOutcome::Sending => "sending",
            DeliveryOutcome::Sent => "sent",
            DeliveryOutcome::Skipped => "skipped",
            DeliveryOutcome::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<DeliveryOutcome> {
        [
            DeliveryOutcome::Pending,
            DeliveryOutcome::Sending,
            DeliveryOutcome::Sent,
            DeliveryOutcome::Skipped,
            DeliveryOutcome::Failed,
        ]
        .into_iter()
        .find(|o| o.key() == key)
    }
}

/// One delivery, scheduled or sent on demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    /// The scheduled time it is for (for "Send now": when it was asked for).
    pub scheduled_for: DateTime<Utc>,
    pub on_demand: bool,
    pub finished_at: Option<DateTime<Utc>>,
    pub recipients: Vec<String>,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub attempts: u32,
    pub outcome: DeliveryOutcome,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionOwner {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// A disabled owner's subscription delivers nothing until an MSP admin takes it over.
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subscription {
    pub id: i64,
    pub name: String,
    pub owner: SubscriptionOwner,
    pub view: SubscribedView,
    /// The saved view's name, when it follows one.
    pub view_name: Option<String>,
    pub format: ExportFormat,
    pub schedule: Schedule,
    /// The schedule in words.
    pub schedule_text: String,
    pub recipients: Vec<String>,
    pub skip_empty: bool,
    pub enabled: bool,
    pub next_delivery: Option<DateTime<Utc>>,
    pub last_delivery: Option<Delivery>,
}

/// Create or replace a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveSubscriptionRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::name_80))]
    pub name: String,
    pub view: SubscribedView,
    pub format: ExportFormat,
    pub schedule: Schedule,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::subscription_recipients))]
    pub recipients: Vec<String>,
    pub skip_empty: bool,
    pub enabled: bool,
}

/// Give a subscription to another admin (MSP admins only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignOwnerRequest {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::id))]
    pub owner_id: i64,
}

/// An email address as Provisio accepts one (recipients, admins).
pub use crate::auth::plausible_email;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn schedule(recurrence: Recurrence, hour: u8, minute: u8) -> Schedule {
        Schedule {
            recurrence,
            hour,
            minute,
        }
    }

    #[test]
    fn daily_is_today_when_the_time_is_still_ahead_else_tomorrow() {
        let daily = schedule(Recurrence::Day, 7, 0);
        assert_eq!(
            daily.next_after(at("2026-11-24T06:59:59Z")),
            Some(at("2026-11-24T07:00:00Z"))
        );
        assert_eq!(
            daily.next_after(at("2026-11-24T07:00:00Z")),
            Some(at("2026-11-25T07:00:00Z")),
            "strictly after: a delivery at 07:00 is not due again at 07:00"
        );
    }

    #[test]
    fn times_around_midnight_roll_into_the_next_day_month_and_year() {
        let late = schedule(Recurrence::Day, 23, 59);
        assert_eq!(
            late.next_after(at("2026-12-31T23:59:00Z")),
            Some(at("2027-01-01T23:59:00Z"))
        );
        let midnight = schedule(Recurrence::Day, 0, 0);
        assert_eq!(
            midnight.next_after(at("2026-12-31T23:59:59Z")),
            Some(at("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn weekly_picks_the_next_chosen_weekday() {
        // 2026-11-24 is a Tuesday.
        let weekly = schedule(
            Recurrence::Week {
                weekdays: vec![Weekday::Mon, Weekday::Thu],
            },
            7,
            0,
        );
        assert_eq!(
            weekly.upcoming(at("2026-11-24T12:00:00Z"), 3),
            [
                at("2026-11-26T07:00:00Z"),
                at("2026-11-30T07:00:00Z"),
                at("2026-12-03T07:00:00Z")
            ]
        );
        assert_eq!(weekly.describe(), "Every Monday and Thursday at 07:00 UTC");
    }

    #[test]
    fn monthly_on_the_31st_falls_on_the_last_day_of_shorter_months() {
        let monthly = schedule(
            Recurrence::Month {
                day: MonthDay::Day(31),
            },
            6,
            30,
        );
        assert_eq!(
            monthly.upcoming(at("2027-01-31T07:00:00Z"), 3),
            [
                at("2027-02-28T06:30:00Z"),
                at("2027-03-31T06:30:00Z"),
                at("2027-04-30T06:30:00Z")
            ]
        );
    }

    #[test]
    fn last_day_knows_leap_years() {
        let last = schedule(
            Recurrence::Month {
                day: MonthDay::Last,
            },
            23,
            30,
        );
        assert_eq!(
            last.next_after(at("2028-02-01T00:00:00Z")),
            Some(at("2028-02-29T23:30:00Z")),
            "2028 is a leap year"
        );
        assert_eq!(
            last.next_after(at("2100-02-01T00:00:00Z")),
            Some(at("2100-02-28T23:30:00Z")),
            "2100 is not"
        );
        assert_eq!(
            last.describe(),
            "On the last day of every month at 23:30 UTC"
        );
    }

    #[test]
    fn bad_schedules_and_addresses_are_refused() {
        assert!(schedule(Recurrence::Day, 24, 0).check().is_err());
        assert!(schedule(Recurrence::Week { weekdays: vec![] }, 7, 0)
            .check()
            .is_err());
        assert!(schedule(
            Recurrence::Month {
                day: MonthDay::Day(0)
            },
            7,
            0
        )
        .check()
        .is_err());
    }
}
