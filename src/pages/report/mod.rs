//! The User Provisioning report, the app's home. The URL holds the filters, service plans, sort,
//! and (when they differ from the admin's own layout) the columns and the saved view, so a copied
//! link reopens the same view and Back/Forward step through changes.
//!
//! Without `cols` in the URL the table shows the admin's own column layout, kept on the server;
//! with them (a view, a shared link) rearranging edits the URL instead.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use provisio_api::auth::Role;
use provisio_api::report::{
    encode_columns, ColumnLayout, ExportFormat, Filter, Operator, QueryError, ReportFacets,
    ReportField, ReportLink, ReportQuery, ReportRow, SavedView, SavedViewList,
};

use crate::api;
use crate::components::bulk_actions::{use_row_selection, BulkBar};
use crate::components::column_panel::ColumnPanel;
use crate::components::data_table::DataTable;
use crate::components::export_menu::ExportMenu;
use crate::components::filter_bar::FilterBar;
use crate::components::multi_select::MultiSelect;
use crate::components::subscription_form::CurrentView;
use crate::components::subscription_panel::SubscriptionPanel;
use crate::components::view_bar::{CurrentArrangement, ViewBar};
use crate::format;
use crate::session::Session;

/// Rows fetched per request while scrolling.
const PAGE_SIZE: u32 = 200;

#[derive(Debug, Clone, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(String),
}

/// Reads the report link (view, query, columns) from the address bar's query string.
pub fn link_from_search(search: &str) -> Result<ReportLink, QueryError> {
    ReportLink::from_query_string(search)
}

/// The link that opens a saved view.
fn link_to_view(view: &SavedView) -> ReportLink {
    ReportLink {
        view: Some(view.id),
        query: link_from_search(&view.query)
            .map(|link| link.query)
            .unwrap_or_default(),
        columns: Some(view.columns.clone()),
    }
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let location = use_location();
    let parsed = Memo::new(move |_| link_from_search(&location.search.get()));
    let link = Memo::new(move |_| parsed.get().unwrap_or_default());
    let query = Memo::new(move |_| link.with(|l| l.query.clone()));
    let link_error = move || parsed.get().err().map(|err| err.message);

    let navigate = use_navigate();
    let go = Callback::new(move |(next, replace): (ReportLink, bool)| {
        let search = next.to_query_string();
        let path = if search.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{search}")
        };
        navigate(
            &path,
            NavigateOptions {
                scroll: false,
                replace,
                ..Default::default()
            },
        );
    });
    let set_link = Callback::new(move |next: ReportLink| go.run((next, false)));
    let set_query = Callback::new(move |next: ReportQuery| {
        let mut link = link.get_untracked();
        link.query = next;
        set_link.run(link);
    });
    let change = move |edit: &dyn Fn(&mut ReportQuery)| {
        let mut next = query.get_untracked();
        edit(&mut next);
        set_query.run(next);
    };

    // The admin's own layout; the table waits for it so the default order never flashes.
    let saved_layout = RwSignal::new(None::<ColumnLayout>);
    let layout_error = RwSignal::new(None::<String>);
    spawn_local(async move {
        let loaded = api::report_layout().await;
        if let Err(failure) = &loaded {
            layout_error.set(Some(format!(
                "Your column layout could not be loaded ({failure}); showing the default."
            )));
        }
        saved_layout.set(Some(loaded.unwrap_or_default()));
    });
    let layout = Memo::new(move |_| match link.with(|l| l.columns.clone()) {
        Some(columns) => Some(ColumnLayout::from_visible(&columns)),
        None => saved_layout.get(),
    });
    // The page body depends on whether a layout is there, not on which: rearranging columns
    // must not rebuild the table (and lose focus and scroll position).
    let layout_ready = Memo::new(move |_| layout.with(Option::is_some));
    let columns = Signal::derive(move || {
        layout.with(|l| l.as_ref().map(ColumnLayout::visible).unwrap_or_default())
    });
    let on_layout = Callback::new(move |next: ColumnLayout| {
        if link.with_untracked(|l| l.columns.is_some()) {
            let mut moved = link.get_untracked();
            moved.columns = Some(next.visible());
            set_link.run(moved);
            return;
        }
        saved_layout.set(Some(next.clone()));
        spawn_local(async move {
            if let Err(failure) = api::save_report_layout(&next).await {
                layout_error.set(Some(format!(
                    "Your column layout could not be saved: {failure}"
                )));
            }
        });
    });
    let edit_layout = move |edit: &dyn Fn(&mut ColumnLayout)| {
        let mut next = layout.get_untracked().unwrap_or_default();
        edit(&mut next);
        on_layout.run(next);
    };
    let on_move = Callback::new(move |(field, to): (ReportField, usize)| {
        edit_layout(&|l| l.move_visible(field, to))
    });
    let on_hide = Callback::new(move |field: ReportField| {
        edit_layout(&|l| {
            l.set_hidden(field, true);
        })
    });
    let on_reset_layout = Callback::new(move |()| {
        if link.with_untracked(|l| l.columns.is_some()) {
            let mut plain = link.get_untracked();
            plain.columns = None;
            set_link.run(plain);
        }
        saved_layout.set(Some(ColumnLayout::default()));
        spawn_local(async move {
            if let Err(failure) = api::reset_report_layout().await {
                layout_error.set(Some(format!(
                    "Your column layout could not be reset: {failure}"
                )));
            }
        });
    });
    let panel_layout = Signal::derive(move || layout.get().unwrap_or_default());

    // Saved views; a bare report address opens the admin's default view, if they chose one.
    let views = RwSignal::new(None::<SavedViewList>);
    let opened_bare = location
        .search
        .get_untracked()
        .trim_start_matches('?')
        .is_empty();
    let views_settled = RwSignal::new(!opened_bare);
    spawn_local(async move {
        let list = api::saved_views().await.ok();
        if opened_bare {
            let default = list.as_ref().and_then(|list| {
                let id = list.default_view?;
                list.views.iter().find(|v| v.id == id).cloned()
            });
            if let Some(view) = default {
                go.run((link_to_view(&view), true));
            }
        }
        views.set(list);
        views_settled.set(true);
    });
    let on_open_view = Callback::new(move |view: Option<SavedView>| match view {
        Some(view) => set_link.run(link_to_view(&view)),
        None => set_link.run(ReportLink::default()),
    });
    let arrangement = Signal::derive(move || CurrentArrangement {
        view: link.with(|l| l.view),
        query: query.with(ReportQuery::to_query_string),
        columns: columns.get(),
    });
    let subscription_view = Signal::derive(move || CurrentView {
        query: query.with(ReportQuery::to_query_string),
        columns: encode_columns(&columns.get()),
        chips: query.with(|q| CurrentView::chips_of(q, columns.with(Vec::len))),
    });
    let saved_view_list = Signal::derive(move || {
        views.with(|v| v.as_ref().map(|l| l.views.clone()).unwrap_or_default())
    });
    let export_url = Callback::new(move |format: ExportFormat| {
        api::export_url(&query.get_untracked(), &columns.get_untracked(), format)
    });
    let rows = RwSignal::new(Vec::<ReportRow>::new());
    let total = RwSignal::new(None::<u64>);
    let next_cursor = RwSignal::new(None::<String>);
    let status = RwSignal::new(Load::Loading);
    let loading_more = RwSignal::new(false);
    let more_error = RwSignal::new(None::<String>);
    // Responses to an older query are dropped: each load carries the generation it was for.
    let generation = StoredValue::new(0_u64);

    let load_first = move |query: ReportQuery| {
        generation.update_value(|g| *g += 1);
        let this_load = generation.get_value();
        status.set(Load::Loading);
        more_error.set(None);
        spawn_local(async move {
            let result = api::report_page(&query, None, PAGE_SIZE).await;
            if generation.get_value() != this_load {
                return;
            }
            match result {
                Ok(page) => {
                    rows.set(page.rows);
                    total.set(page.total);
                    next_cursor.set(page.next_cursor);
                    status.set(Load::Ready);
                }
                Err(failure) => {
                    status.set(Load::Failed(failure.message));
                }
            }
        });
    };
    Effect::new(move |_| load_first(query.get()));
    // Only admins who change users select rows to act on.
    let can_act = matches!(
        Session::expect().role(),
        Some(Role::MspAdmin | Role::CustomerAdmin)
    );
    let selection = use_row_selection(query.into(), rows.into());
    let on_bulk_done = Callback::new(move |()| load_first(query.get_untracked()));

    let load_more = Callback::new(move |()| {
        if loading_more.get_untracked() || status.get_untracked() != Load::Ready {
            return;
        }
        let Some(cursor) = next_cursor.get_untracked() else {
            return;
        };
        if more_error.get_untracked().is_some() {
            return;
        }
        let this_load = generation.get_value();
        let query = query.get_untracked();
        loading_more.set(true);
        spawn_local(async move {
            let result = api::report_page(&query, Some(&cursor), PAGE_SIZE).await;
            if generation.get_value() != this_load {
                loading_more.set(false);
                return;
            }
            match result {
                Ok(mut page) => {
                    rows.update(|rows| rows.append(&mut page.rows));
                    next_cursor.set(page.next_cursor);
                }
                Err(failure) => more_error.set(Some(failure.message)),
            }
            loading_more.set(false);
        });
    });
    let retry_more = move |_| {
        more_error.set(None);
        load_more.run(());
    };

    let facets = RwSignal::new(None::<ReportFacets>);
    spawn_local(async move {
        if let Ok(loaded) = api::report_facets().await {
            facets.set(Some(loaded));
        }
    });

    let plan_options = Signal::derive(move || {
        facets.with(|f| {
            f.as_ref()
                .map(|f| f.service_plans.clone())
                .unwrap_or_default()
        })
    });
    let chosen_plans = Signal::derive(move || query.with(|q| q.service_plans.clone()));
    let on_plans =
        Callback::new(move |plans: Vec<String>| change(&|q| q.service_plans = plans.clone()));

    let customer_search = move || {
        query.with(|q| {
            q.filters
                .iter()
                .find(|f| {
                    f.field() == ReportField::CustomerName && f.operator() == Operator::Contains
                })
                .map(|f| f.values().join(""))
                .unwrap_or_default()
        })
    };
    let on_customer_search = move |text: String| {
        let text = text.trim().to_owned();
        change(&|q| {
            q.filters.retain(|f| {
                !(f.field() == ReportField::CustomerName && f.operator() == Operator::Contains)
            });
            if let Ok(filter) = Filter::new(
                ReportField::CustomerName,
                Operator::Contains,
                vec![text.clone()],
            ) {
                q.filters.push(filter);
            }
        });
    };
    let customer_names = move || {
        facets.with(|f| {
            f.as_ref()
                .map(|f| {
                    f.customers
                        .iter()
                        .map(|c| c.value.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };

    let filters = Signal::derive(move || query.with(|q| q.filters.clone()));
    let on_filters =
        Callback::new(move |filters: Vec<Filter>| change(&|q| q.filters = filters.clone()));
    let sort = Signal::derive(move || query.with(|q| q.sort));
    let on_sort =
        Callback::new(move |field: ReportField| change(&|q| q.sort = q.sort.toggled(field)));
    let has_filters = move || query.with(|q| !q.filters.is_empty() || !q.service_plans.is_empty());

    let summary = move || match (status.get(), total.get()) {
        (Load::Failed(_), _) => String::new(),
        (Load::Loading, None) => "Loading users…".to_owned(),
        (_, Some(1)) => "1 user".to_owned(),
        (_, Some(n)) => format!("{} users", format::thousands(n as i64)),
        (_, None) => String::new(),
    };

    let body = move || {
        match status.get() {
        Load::Failed(message) => view! {
            <div class="state error-state" role="alert">
                <h2>"The report could not be loaded"</h2>
                <p>{message}</p>
                <button type="button" class="button primary" on:click=move |_| load_first(query.get_untracked())>
                    "Retry"
                </button>
            </div>
        }
        .into_any(),
        _ if !layout_ready.get() || !views_settled.get() => view! {
            <div class="state loading-state" aria-busy="true">
                <div class="spinner" aria-hidden="true"></div>
                <p>"Loading users…"</p>
            </div>
        }
        .into_any(),
        Load::Loading if rows.with(Vec::is_empty) => view! {
            <div class="state loading-state" aria-busy="true">
                <div class="spinner" aria-hidden="true"></div>
                <p>"Loading users…"</p>
            </div>
        }
        .into_any(),
        _ if rows.with(Vec::is_empty) => view! {
            <div class="state empty-state">
                <h2>"No users match"</h2>
                <p>"No provisioned user matches these filters."</p>
                <Show when=has_filters>
                    <button type="button" class="button primary" on:click=move |_| set_query.run(ReportQuery::default())>
                        "Clear filters"
                    </button>
                </Show>
            </div>
        }
        .into_any(),
        state => view! {
            <div class="table-frame" class:stale=state == Load::Loading aria-busy=(state == Load::Loading).to_string()>
                <DataTable
                    columns
                    rows
                    total
                    sort
                    on_sort
                    on_move
                    on_hide
                    on_near_end=load_more
                    loading_more
                    selection=can_act.then_some(selection)
                />
            </div>
        }
        .into_any(),
    }
    };

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
            <Show when=move || link_error().is_some()>
                <div class="banner warning" role="alert">
                    "This link's view could not be read ("{link_error}"). Showing the full report instead."
                </div>
            </Show>
            <div class="toolbar">
                <MultiSelect label="Service plan" options=plan_options selected=chosen_plans on_change=on_plans />
                <label class="search">
                    <span class="visually-hidden">"Search customer name"</span>
                    <input
                        type="search"
                        class="customer-search"
                        placeholder="Search customer name"
                        list="customer-suggestions"
                        prop:value=customer_search
                        on:change=move |event| on_customer_search(event_target_value(&event))
                    />
                    <datalist id="customer-suggestions">
                        {move || {
                            customer_names()
                                .into_iter()
                                .map(|name| view! { <option value=name></option> })
                                .collect_view()
                        }}
                    </datalist>
                </label>
            </div>
            <FilterBar filters facets on_change=on_filters />
            <ViewBar views current=arrangement on_open=on_open_view />
            <Show when=move || layout_error.get().is_some()>
                <div class="banner warning" role="alert">{move || layout_error.get()}</div>
            </Show>
            <div class="result-meta">
                <p class="total" aria-live="polite">{summary}</p>
                <div class="result-actions">
                    <ColumnPanel layout=panel_layout on_change=on_layout on_reset=on_reset_layout />
                    <ExportMenu url_for=export_url total />
                </div>
                <Show when=move || more_error.get().is_some()>
                    <p class="inline-error" role="alert">
                        {move || more_error.get()}
                        " "
                        <button type="button" class="button link" on:click=retry_more>"Retry"</button>
                    </p>
                </Show>
            </div>
            <Show when=move || can_act>
                <BulkBar selection query total on_done=on_bulk_done />
            </Show>
            {body}
        </section>
    }
}
