//! The log's filters: date range, status, action, customer, source system and a search box.
//! Each option shows how many events in the date range have it; every change goes to the URL.

use leptos::prelude::*;
use provisio_api::provisioning::{
    DateRange, EventFacet, EventFacets, EventKind, EventQuery, EventStatus,
};

use super::logs::EventLink;
use crate::api;
use crate::format;

#[component]
pub fn LogFilters(link: EventLink) -> impl IntoView {
    let facets = LocalResource::new(move || {
        let query = link.query.get();
        async move { api::provisioning_facets(&query).await }
    });
    let facets = Memo::new(move |_| facets.get().and_then(Result::ok));
    let change = move |edit: &dyn Fn(&mut EventQuery)| {
        let mut next = link.query.get_untracked();
        edit(&mut next);
        link.set.run(next);
    };
    let search = RwSignal::new(link.query.get_untracked().search);
    Effect::new(move |_| search.set(link.query.with(|q| q.search.clone())));
    let active = move || {
        link.query.with(|q| {
            *q != EventQuery {
                range: q.range,
                since: q.since,
                until: q.until,
                ..EventQuery::default()
            }
        })
    };

    view! {
        <form class="filter-bar log-filters" role="search" aria-label="Filter events"
            on:submit=move |event| {
                event.prevent_default();
                let text = search.get_untracked();
                change(&|q| q.search = text.trim().to_owned());
            }>
            <label class="inline-field">
                <span>"Date"</span>
                <select name="range" on:change=move |event| {
                    let key = event_target_value(&event);
                    change(&|q| q.range = DateRange::from_key(&key).unwrap_or(DateRange::Week));
                }>
                    {DateRange::ALL.iter().map(|range| view! {
                        <option value=range.key() selected=move || link.query.with(|q| q.range == *range)>{range.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <Show when=move || link.query.with(|q| q.range == DateRange::Custom)>
                <DayInput label="From" value=Signal::derive(move || link.query.with(|q| q.since))
                    on_change=Callback::new(move |day| change(&|q| q.since = day)) />
                <DayInput label="To" value=Signal::derive(move || link.query.with(|q| q.until))
                    on_change=Callback::new(move |day| change(&|q| q.until = day)) />
            </Show>
            <Choices label="Status" name="status"
                options=Signal::derive(move || facets.get().map(|f| keyed(&f.statuses, |s| s.key())).unwrap_or_default())
                chosen=Signal::derive(move || link.query.with(|q| q.statuses.iter().map(|s| s.key().to_owned()).collect()))
                on_change=Callback::new(move |keys: Vec<String>| change(&|q| {
                    q.statuses = keys.iter().filter_map(|k| EventStatus::from_key(k)).collect();
                })) />
            <Choices label="Action" name="action"
                options=Signal::derive(move || facets.get().map(|f| keyed(&f.kinds, |k| k.key())).unwrap_or_default())
                chosen=Signal::derive(move || link.query.with(|q| q.kinds.iter().map(|k| k.key().to_owned()).collect()))
                on_change=Callback::new(move |keys: Vec<String>| change(&|q| {
                    q.kinds = keys.iter().filter_map(|k| EventKind::from_key(k)).collect();
                })) />
            <Show when=move || facets.get().is_some_and(|f| f.customers.len() > 1 || link.query.with(|q| !q.customers.is_empty()))>
                <Picker label="Customer" name="customer" all="All customers"
                    options=Signal::derive(move || facets.get().map(|f: EventFacets| ids(&f.customers)).unwrap_or_default())
                    chosen=Signal::derive(move || link.query.with(|q| q.customers.first().copied()))
                    on_change=Callback::new(move |id: Option<i64>| change(&|q| q.customers = id.into_iter().collect())) />
            </Show>
            <Picker label="Source system" name="token" all="All sources"
                options=Signal::derive(move || facets.get().map(|f| ids(&f.tokens)).unwrap_or_default())
                chosen=Signal::derive(move || link.query.with(|q| q.tokens.first().copied()))
                on_change=Callback::new(move |id: Option<i64>| change(&|q| q.tokens = id.into_iter().collect())) />
            <label class="inline-field">
                <span>"Order"</span>
                <select name="sort" on:change=move |event| {
                    let oldest = event_target_value(&event) == "at";
                    change(&|q| q.oldest_first = oldest);
                }>
                    <option value="-at" selected=move || link.query.with(|q| !q.oldest_first)>"Newest first"</option>
                    <option value="at" selected=move || link.query.with(|q| q.oldest_first)>"Oldest first"</option>
                </select>
            </label>
            <label class="search">
                <span class="visually-hidden">"Search identity, source ID, target ID or change ID"</span>
                <input type="search" name="q" placeholder="Name, email, group or id" bind:value=search />
            </label>
            <button type="submit" class="button secondary">"Search"</button>
            <Show when=active>
                <button type="button" class="button link clear-filters"
                    on:click=move |_| change(&|q| *q = EventQuery { range: q.range, since: q.since, until: q.until, ..EventQuery::default() })>
                    "Clear filters"
                </button>
            </Show>
        </form>
    }
}

/// (key, label with count) for each facet value.
fn keyed<T: Copy>(
    facets: &[EventFacet<T>],
    key: impl Fn(T) -> &'static str,
) -> Vec<(String, String)> {
    facets
        .iter()
        .map(|f| {
            (
                key(f.value).to_owned(),
                format!("{} ({})", f.label, format::thousands(f.count as i64)),
            )
        })
        .collect()
}

fn ids(facets: &[EventFacet<i64>]) -> Vec<(i64, String)> {
    facets
        .iter()
        .map(|f| {
            (
                f.value,
                format!("{} ({})", f.label, format::thousands(f.count as i64)),
            )
        })
        .collect()
}

/// A date input for a custom range's first or last day.
#[component]
fn DayInput(
    label: &'static str,
    value: Signal<Option<chrono::NaiveDate>>,
    on_change: Callback<Option<chrono::NaiveDate>>,
) -> impl IntoView {
    view! {
        <label class="inline-field">
            <span>{label}</span>
            <input type="date" prop:value=move || value.get().map(|d| d.to_string()).unwrap_or_default()
                on:change=move |event| {
                    let text = event_target_value(&event);
                    on_change.run(chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
                } />
        </label>
    }
}

/// Checkboxes in a popover: any of the values that occur.
#[component]
fn Choices(
    label: &'static str,
    name: &'static str,
    options: Signal<Vec<(String, String)>>,
    chosen: Signal<Vec<String>>,
    on_change: Callback<Vec<String>>,
) -> impl IntoView {
    let summary = move || match chosen.with(Vec::len) {
        0 => label.to_owned(),
        n => format!("{label} ({n})"),
    };
    let toggle = move |key: String, on: bool| {
        let mut keys = chosen.get_untracked();
        keys.retain(|k| *k != key);
        if on {
            keys.push(key);
        }
        on_change.run(keys);
    };
    view! {
        <details class="popover log-choices" data-filter=name>
            <summary class="button secondary" class:active=move || !chosen.with(Vec::is_empty)>{summary}</summary>
            <div class="popover-panel checklist">
                <Show when=move || !options.with(Vec::is_empty) fallback=|| view! { <p class="hint">"None in this date range."</p> }>
                    <For each=move || options.get() key=|(key, label)| (key.clone(), label.clone()) children=move |(key, text)| {
                        let checked = {
                            let key = key.clone();
                            move || chosen.with(|c| c.contains(&key))
                        };
                        view! {
                            <label class="check">
                                <input type="checkbox" name=name value=key.clone() prop:checked=checked
                                    on:change=move |event| toggle(key.clone(), event_target_checked(&event)) />
                                <span>{text}</span>
                            </label>
                        }
                    } />
                </Show>
            </div>
        </details>
    }
}

/// A select of one value or all.
#[component]
fn Picker(
    label: &'static str,
    name: &'static str,
    all: &'static str,
    options: Signal<Vec<(i64, String)>>,
    chosen: Signal<Option<i64>>,
    on_change: Callback<Option<i64>>,
) -> impl IntoView {
    view! {
        <label class="inline-field">
            <span>{label}</span>
            <select name=name on:change=move |event| on_change.run(event_target_value(&event).parse::<i64>().ok())>
                <option value="" selected=move || chosen.get().is_none()>{all}</option>
                <For each=move || options.get() key=|(id, label)| (*id, label.clone()) children=move |(id, text)| view! {
                    <option value=id.to_string() selected=move || chosen.get() == Some(id)>{text}</option>
                } />
            </select>
        </label>
    }
}
