//! The User Provisioning report, the app's home: the address holds what is shown
//! (`address`), the admin's layout which columns (`layout`), saved views open by name
//! (`views`), and rows load a page at a time as the table scrolls.

mod address;
mod layout;
mod toolbar;
mod views;

use leptos::prelude::*;
use provisio_api::auth::Role;
use provisio_api::report::{ExportFormat, Filter, ReportField, ReportPage, ReportQuery};

use crate::api;
use crate::components::bulk_actions::{use_row_selection, BulkBar, RowSelection};
use crate::components::column_panel::ColumnPanel;
use crate::components::data_table::DataTable;
use crate::components::export_menu::ExportMenu;
use crate::components::filter_bar::FilterBar;
use crate::components::states::{ErrorState, LoadingState};
use crate::components::subscription_form::CurrentView;
use crate::components::subscription_panel::SubscriptionPanel;
use crate::components::view_bar::{CurrentArrangement, ViewBar};
use crate::format;
use crate::paging::{use_paged_rows, PagedRows};
use crate::session::Session;
use address::{use_report_address, ReportAddress};
use layout::{use_column_layout, ColumnLayoutState};
use toolbar::ReportToolbar;
use views::{use_saved_views, SavedViews};

/// Rows fetched per request while scrolling.
const PAGE_SIZE: u32 = 200;

type ReportRows = PagedRows<ReportPage>;

#[component]
pub fn ReportPage() -> impl IntoView {
    let address = use_report_address();
    let layout = use_column_layout(address);
    let views = use_saved_views(address);
    let rows: ReportRows = use_paged_rows(address.query, |query, cursor| async move {
        api::report_page(&query, cursor.as_deref(), PAGE_SIZE).await
    });
    let facets = LocalResource::new(api::report_facets);
    let facets = Signal::derive(move || facets.get().and_then(Result::ok));
    // Only admins who change users select rows to act on.
    let can_act = matches!(
        Session::expect().role(),
        Some(Role::MspAdmin | Role::CustomerAdmin)
    );
    let selection = use_row_selection(address.query.into(), rows.rows.into());

    let query_text = move || address.query.with(ReportQuery::to_query_string);
    let arrangement = Signal::derive(move || CurrentArrangement {
        view: address.link.with(|l| l.view),
        query: query_text(),
        columns: layout.columns.get(),
    });
    let subscription_view = Signal::derive(move || CurrentView {
        query: query_text(),
        columns: layout.columns.get(),
        chips: address
            .query
            .with(|q| CurrentView::chips_of(q, layout.columns.with(Vec::len))),
    });
    let saved_view_list = Signal::derive(move || {
        views
            .list
            .with(|v| v.as_ref().map(|l| l.views.clone()).unwrap_or_default())
    });
    let export_url = Callback::new(move |format: ExportFormat| {
        api::export_url(
            &address.query.get_untracked(),
            &layout.columns.get_untracked(),
            format,
        )
    });
    let filters = Signal::derive(move || address.query.with(|q| q.filters.clone()));
    let on_filters =
        Callback::new(move |filters: Vec<Filter>| address.edit_query(|q| q.filters = filters));
    let panel_layout = Signal::derive(move || layout.layout.get().unwrap_or_default());

    view! {
        <section class="page report-page">
            <header class="page-header">
                <div>
                    <h1>"User Provisioning"</h1>
                    <p class="subtitle">
                        "Every user provisioned in Endpoints, across customers. Times are in UTC."
                    </p>
                </div>
                <SubscriptionPanel current=subscription_view saved_views=saved_view_list />
            </header>
            {move || address.error.get().map(|message| view! {
                <div class="banner warning" role="alert">
                    "This link's view could not be read ("{message}"). Showing the full report instead."
                </div>
            })}
            <ReportToolbar address facets />
            <FilterBar filters facets on_change=on_filters />
            <ViewBar views=views.list current=arrangement on_open=views.on_open />
            {move || layout.error.get().map(|message| view! {
                <div class="banner warning" role="alert">{message}</div>
            })}
            <div class="result-meta">
                <p class="total" aria-live="polite">{move || summary(rows)}</p>
                <div class="result-actions">
                    <ColumnPanel layout=panel_layout on_change=layout.on_change on_reset=layout.on_reset />
                    <ExportMenu url_for=export_url total=rows.total />
                </div>
                {move || rows.more_failed.get().map(|message| view! {
                    <p class="inline-error" role="alert">
                        {message}" "
                        <button type="button" class="button link" on:click=move |_| rows.load_more.run(())>"Retry"</button>
                    </p>
                })}
            </div>
            <Show when=move || can_act>
                <BulkBar selection query=address.query total=rows.total
                    on_done=Callback::new(move |()| rows.first.refetch()) />
            </Show>
            <ReportBody address layout views rows selection=can_act.then_some(selection) />
        </section>
    }
}

/// "1,234 users", or what is happening instead.
fn summary(rows: ReportRows) -> String {
    if rows.failed.get().is_some() {
        return String::new();
    }
    match rows.total.get() {
        Some(1) => "1 user".to_owned(),
        Some(n) => format!("{} users", format::thousands(n as i64)),
        None if rows.loading.get() => "Loading users…".to_owned(),
        None => String::new(),
    }
}

fn mark_first_rows() -> bool {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        // Only measurement depends on it; a browser that refuses loses nothing else.
        let _ = performance.mark("provisio:first-rows");
    }
    true
}

/// What the page body shows. The table stays the same element while rows change (a new sort,
/// a further page), so focus and scroll position survive.
#[derive(Debug, Clone, PartialEq)]
enum Body {
    Loading,
    Failed(String),
    NoMatch,
    Table,
}

#[component]
fn ReportBody(
    address: ReportAddress,
    layout: ColumnLayoutState,
    views: SavedViews,
    rows: ReportRows,
    selection: Option<RowSelection>,
) -> impl IntoView {
    let body = Memo::new(move |_| {
        // The table waits for the layout (so the default order never flashes) and, on a bare
        // address, for the default view.
        if !layout.ready.get() || !views.settled.get() {
            return Body::Loading;
        }
        if let Some(message) = rows.failed.get() {
            return Body::Failed(message);
        }
        match (rows.rows.with(Vec::is_empty), rows.loading.get()) {
            (true, true) => Body::Loading,
            (true, false) => Body::NoMatch,
            (false, _) => Body::Table,
        }
    });
    // The browser's performance timeline learns when the first rows are on screen, so the time
    // from navigation to a usable report can be measured (`cargo xtask bench web`).
    Effect::new(move |marked: Option<bool>| {
        marked == Some(true) || (body.get() == Body::Table && mark_first_rows())
    });
    let has_filters = move || {
        address
            .query
            .with(|q| !q.filters.is_empty() || !q.service_plans.is_empty())
    };
    let sort = Signal::derive(move || address.query.with(|q| q.sort));
    let on_sort = Callback::new(move |field: ReportField| {
        address.edit_query(|q| q.sort = q.sort.toggled(field))
    });
    move || {
        match body.get() {
        Body::Loading => view! { <LoadingState message="Loading users…" /> }.into_any(),
        Body::Failed(message) => view! {
            <ErrorState title="The report could not be loaded" message
                on_retry=Callback::new(move |()| rows.first.refetch()) />
        }
        .into_any(),
        Body::NoMatch => view! {
            <div class="state empty-state">
                <h2>"No users match"</h2>
                <p>"No provisioned user matches these filters."</p>
                <Show when=has_filters>
                    <button type="button" class="button primary"
                        on:click=move |_| address.set_query(ReportQuery::default())>
                        "Clear filters"
                    </button>
                </Show>
            </div>
        }
        .into_any(),
        Body::Table => view! {
            <div class="table-frame" class:stale=move || rows.loading.get() aria-busy=move || rows.loading.get().to_string()>
                <DataTable
                    columns=layout.columns
                    rows=rows.rows
                    total=rows.total
                    sort
                    on_sort
                    on_move=layout.on_move
                    on_hide=layout.on_hide
                    on_near_end=rows.load_more
                    loading_more=rows.loading_more
                    selection
                />
            </div>
        }
        .into_any(),
    }
    }
}
