//! The provisioning log (`/provisioning/logs`): every event the identity providers, mappings
//! and admins caused, newest first, filtered from the URL, with a detail panel and downloads.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use provisio_api::provisioning::{EventPage, EventQuery};

use super::columns::{ColumnPicker, LogColumn};
use super::detail::EventPanel;
use super::filters::LogFilters;
use super::status::StatusPanel;
use super::table::EventTable;
use crate::api;
use crate::components::export_menu::ExportMenu;
use crate::components::states::{ErrorState, LoadingState};
use crate::format;
use crate::paging::{use_paged_rows, PagedRows};
use crate::session::Session;

/// The query in the address bar, and the way to change it.
#[derive(Clone, Copy)]
pub struct EventLink {
    pub query: Memo<EventQuery>,
    /// Why the address's query was not understood, when it was not.
    pub error: Memo<Option<String>>,
    pub set: Callback<EventQuery>,
}

pub fn use_event_link() -> EventLink {
    let location = use_location();
    let parsed = Memo::new(move |_| {
        EventQuery::from_query_string(location.search.get().trim_start_matches('?'))
    });
    let query = Memo::new(move |_| parsed.get().unwrap_or_default());
    let error = Memo::new(move |_| parsed.get().err().map(|err| err.message));
    let navigate = use_navigate();
    let set = Callback::new(move |next: EventQuery| {
        navigate(
            &super::logs_href(&next),
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    });
    EventLink { query, error, set }
}

/// The query's events as loaded so far: the first page (with the total) as a resource, later
/// pages appended as the table scrolls.
pub type EventRows = PagedRows<EventPage>;

pub fn use_event_rows(query: Memo<EventQuery>) -> EventRows {
    use_paged_rows(query, |query, cursor| async move {
        api::provisioning_events(&query, cursor.as_deref()).await
    })
}

#[component]
pub fn ProvisioningLogsPage() -> impl IntoView {
    let link = use_event_link();
    let events = use_event_rows(link.query);
    let selected = RwSignal::new(None::<i64>);
    let columns = RwSignal::new(LogColumn::default_set());
    let own_customer = Session::expect()
        .me()
        .and_then(|me| me.customer.map(|c| c.id));
    // One customer in view: its status heads the log.
    let one_customer = Memo::new(move |_| {
        own_customer.or_else(|| {
            link.query
                .with(|q| (q.customers.len() == 1).then(|| q.customers[0]))
        })
    });
    let url_for =
        Callback::new(move |format| api::events_export_url(&link.query.get_untracked(), format));
    view! {
        <section class="page logs-page">
            <header class="page-header">
                <div>
                    <h1>"Provisioning logs"</h1>
                    <p class="subtitle">
                        "What identity providers, mappings and admins did to each user and group, and every request Provisio refused. Times in UTC."
                    </p>
                </div>
                <div class="toolbar">
                    <ColumnPicker columns />
                    <ExportMenu url_for total=events.total title="Every matching event, with its modified properties" />
                </div>
            </header>
            {move || one_customer.get().map(|customer_id| view! { <StatusPanel customer_id compact=true /> })}
            <LogFilters link />
            {move || link.error.get().map(|message| view! {
                <p class="notice inline-error" role="alert">{format!("The address's filter was not understood: {message}")}</p>
            })}
            <div class="logs-body">
                <Transition fallback=|| view! { <LoadingState message="Loading events…" /> }>
                    {move || Suspend::new(async move {
                        match events.first.await {
                            Ok(_) => view! { <LogResult events columns selected /> }.into_any(),
                            Err(failure) => view! {
                                <ErrorState title="The provisioning log could not be loaded" message=failure.message
                                    on_retry=Callback::new(move |()| events.first.refetch()) />
                            }.into_any(),
                        }
                    })}
                </Transition>
                {move || selected.get().map(|id| view! {
                    <EventPanel id on_close=Callback::new(move |()| selected.set(None)) />
                })}
            </div>
        </section>
    }
}

/// The loaded events: their count, the table, or the designed empty state.
#[component]
fn LogResult(
    events: EventRows,
    columns: RwSignal<Vec<LogColumn>>,
    selected: RwSignal<Option<i64>>,
) -> impl IntoView {
    let count = move || {
        events.total.get().map(|total| match total {
            1 => "1 event".to_owned(),
            n => format!("{} events", format::thousands(n as i64)),
        })
    };
    view! {
        <Show when=move || !events.rows.with(Vec::is_empty) fallback=|| view! {
            <div class="state empty-state">
                <h2>"No events match"</h2>
                <p>"Widen the date range or clear a filter. Events appear as the identity provider sends requests."</p>
            </div>
        }>
            <div class="logs-result">
                <p class="result-meta total" role="status">{count}</p>
                <EventTable rows=events.rows columns selected on_near_end=events.load_more
                    loading_more=events.loading_more />
                {move || events.more_failed.get().map(|message| view! {
                    <p class="inline-error" role="alert">
                        {message}" "
                        <button type="button" class="button link small" on:click=move |_| events.load_more.run(())>"Retry"</button>
                    </p>
                })}
            </div>
        </Show>
    }
}
