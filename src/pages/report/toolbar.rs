//! Above the table: the service-plan filter and the customer search.

use leptos::prelude::*;
use provisio_api::report::{Filter, Operator, ReportFacets, ReportField};

use super::address::ReportAddress;
use crate::components::multi_select::MultiSelect;

/// Whether a filter is the customer search's own (Customer Name contains).
fn is_customer_search(filter: &Filter) -> bool {
    filter.field() == ReportField::CustomerName && filter.operator() == Operator::Contains
}

#[component]
pub fn ReportToolbar(
    address: ReportAddress,
    #[prop(into)] facets: Signal<Option<ReportFacets>>,
) -> impl IntoView {
    let plan_options = Signal::derive(move || {
        facets.with(|f| {
            f.as_ref()
                .map(|f| f.service_plans.clone())
                .unwrap_or_default()
        })
    });
    let chosen_plans = Signal::derive(move || address.query.with(|q| q.service_plans.clone()));
    let on_plans =
        Callback::new(move |plans: Vec<String>| address.edit_query(|q| q.service_plans = plans));
    let customer_search = move || {
        address.query.with(|q| {
            q.filters
                .iter()
                .find(|f| is_customer_search(f))
                .map(|f| f.values().join(""))
                .unwrap_or_default()
        })
    };
    let on_customer_search = move |text: String| {
        let text = text.trim().to_owned();
        address.edit_query(|q| {
            q.filters.retain(|f| !is_customer_search(f));
            if let Ok(filter) =
                Filter::new(ReportField::CustomerName, Operator::Contains, vec![text])
            {
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
    view! {
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
    }
}
