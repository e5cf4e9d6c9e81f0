//! The User Provisioning report, the app's home. The URL holds the filters, service plans and
//! sort, so a copied link reopens the same view and Back/Forward step through changes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use provisio_api::report::{
    decode_pairs, Filter, Operator, QueryError, ReportFacets, ReportField, ReportQuery, ReportRow,
};

use crate::api;
use crate::components::data_table::DataTable;
use crate::components::filter_bar::FilterBar;
use crate::components::multi_select::MultiSelect;
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

/// Reads the report query from the address bar's query string.
pub fn query_from_search(search: &str) -> Result<ReportQuery, QueryError> {
    let pairs = decode_pairs(search.trim_start_matches('?'))?;
    ReportQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let location = use_location();
    let parsed = Memo::new(move |_| query_from_search(&location.search.get()));
    let query = Memo::new(move |_| parsed.get().unwrap_or_default());
    let link_error = move || parsed.get().err().map(|err| err.message);

    let navigate = use_navigate();
    let set_query = Callback::new(move |next: ReportQuery| {
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
                ..Default::default()
            },
        );
    });
    let change = move |edit: &dyn Fn(&mut ReportQuery)| {
        let mut next = query.get_untracked();
        edit(&mut next);
        set_query.run(next);
    };

    let session = Session::expect();
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
                    if failure.is_unauthorized() {
                        session.ended();
                    }
                    status.set(Load::Failed(failure.message));
                }
            }
        });
    };
    Effect::new(move |_| load_first(query.get()));

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
    let columns = Signal::derive(|| ReportField::ALL.to_vec());
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
                    on_near_end=load_more
                    loading_more
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
            <div class="result-meta">
                <p class="total" aria-live="polite">{summary}</p>
                <Show when=move || more_error.get().is_some()>
                    <p class="inline-error" role="alert">
                        {move || more_error.get()}
                        " "
                        <button type="button" class="button link" on:click=retry_more>"Retry"</button>
                    </p>
                </Show>
            </div>
            {body}
        </section>
    }
}
