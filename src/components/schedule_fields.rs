//! A subscription's schedule: every day, every week on chosen weekdays, or every month on a
//! day, at a time in UTC, with the next three deliveries shown in UTC and in the browser's
//! time.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use provisio_api::subscription::{MonthDay, Recurrence, Schedule, Weekday};

use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Every {
    Day,
    Week,
    Month,
}

/// Now, from the browser's clock (chrono's clock is not available in WebAssembly).
pub fn browser_now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// The schedule as it is being edited.
#[derive(Clone, Copy)]
pub struct ScheduleDraft {
    every: RwSignal<Every>,
    weekdays: RwSignal<Vec<Weekday>>,
    month_day: RwSignal<MonthDay>,
    /// `HH:MM`, as the time input gives it.
    time: RwSignal<String>,
    /// The schedule the fields say.
    pub schedule: Memo<Schedule>,
}

impl ScheduleDraft {
    /// Starts from `start`, or every day at 07:00 UTC.
    pub fn new(start: Option<&Schedule>) -> ScheduleDraft {
        let recurrence = start.map(|s| &s.recurrence);
        let every = RwSignal::new(match recurrence {
            Some(Recurrence::Week { .. }) => Every::Week,
            Some(Recurrence::Month { .. }) => Every::Month,
            _ => Every::Day,
        });
        let weekdays = RwSignal::new(match recurrence {
            Some(Recurrence::Week { weekdays }) => weekdays.clone(),
            _ => vec![Weekday::Mon],
        });
        let month_day = RwSignal::new(match recurrence {
            Some(Recurrence::Month { day }) => *day,
            _ => MonthDay::Day(1),
        });
        let time = RwSignal::new(
            start
                .map(|s| format!("{:02}:{:02}", s.hour, s.minute))
                .unwrap_or_else(|| "07:00".to_owned()),
        );
        let schedule = Memo::new(move |_| {
            let (hour, minute) = time.with(|t| {
                let (h, m) = t.split_once(':').unwrap_or(("7", "0"));
                (h.parse::<u8>().unwrap_or(7), m.parse::<u8>().unwrap_or(0))
            });
            Schedule {
                recurrence: match every.get() {
                    Every::Day => Recurrence::Day,
                    Every::Week => Recurrence::Week {
                        weekdays: weekdays.get(),
                    },
                    Every::Month => Recurrence::Month {
                        day: month_day.get(),
                    },
                },
                hour,
                minute,
            }
        });
        ScheduleDraft {
            every,
            weekdays,
            month_day,
            time,
            schedule,
        }
    }
}

#[component]
pub fn ScheduleFields(
    draft: ScheduleDraft,
    /// The server's word on the schedule, if it refused it.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let ScheduleDraft {
        every,
        weekdays,
        month_day,
        time,
        schedule,
    } = draft;
    view! {
        <fieldset class="field-set">
            <legend>"Schedule (UTC)"</legend>
            <div class="schedule-row">
                <select name="every" aria-label="Repeats" on:change=move |e| every.set(match event_target_value(&e).as_str() {
                    "week" => Every::Week,
                    "month" => Every::Month,
                    _ => Every::Day,
                })>
                    <option value="day" selected=move || every.get() == Every::Day>"Every day"</option>
                    <option value="week" selected=move || every.get() == Every::Week>"Every week"</option>
                    <option value="month" selected=move || every.get() == Every::Month>"Every month"</option>
                </select>
                <label class="inline-field">
                    "at"
                    <input type="time" name="time" required bind:value=time />
                    "UTC"
                </label>
            </div>
            <Show when=move || every.get() == Every::Week>
                <div class="weekdays" role="group" aria-label="Weekdays">
                    {Weekday::ALL.into_iter().map(|day| view! {
                        <label class="choice">
                            <input
                                type="checkbox"
                                name="weekday"
                                value=day.short()
                                prop:checked=move || weekdays.with(|w| w.contains(&day))
                                on:change=move |e| {
                                    let on = event_target_checked(&e);
                                    weekdays.update(|w| {
                                        w.retain(|d| *d != day);
                                        if on {
                                            w.push(day);
                                            w.sort();
                                        }
                                    });
                                }
                            />
                            {day.short()}
                        </label>
                    }).collect_view()}
                </div>
            </Show>
            <Show when=move || every.get() == Every::Month>
                <label class="inline-field">
                    "On day"
                    <select name="month_day" on:change=move |e| {
                        let value = event_target_value(&e);
                        month_day.set(match value.parse::<u8>() {
                            Ok(day) => MonthDay::Day(day),
                            Err(_) => MonthDay::Last,
                        });
                    }>
                        {(1..=31u8).map(|d| view! { <option value=d.to_string() selected=move || month_day.get() == MonthDay::Day(d)>{d.to_string()}</option> }).collect_view()}
                        <option value="last" selected=move || month_day.get() == MonthDay::Last>"Last day"</option>
                    </select>
                </label>
            </Show>
            <div class="schedule-preview" aria-live="polite">{move || next_deliveries(schedule.get())}</div>
            <small class="field-error">{move || error.get()}</small>
        </fieldset>
    }
}

/// What the schedule means and its next three deliveries, or why it is not a schedule.
fn next_deliveries(schedule: Schedule) -> AnyView {
    if let Err(problem) = schedule.check() {
        return view! { <p class="field-error">{problem.0}</p> }.into_any();
    }
    let times = schedule.upcoming(browser_now(), 3);
    view! {
        <p class="hint">{schedule.describe()}</p>
        <ol class="next-deliveries" aria-label="Next deliveries">
            {times
                .into_iter()
                .map(|at| view! {
                    <li>
                        <span class="utc">{format::utc(at)}</span>
                        <span class="local">{format!(" · {} your time", format::local(at))}</span>
                    </li>
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}
