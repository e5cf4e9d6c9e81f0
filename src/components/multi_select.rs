//! A compact multi-select: a disclosure button over a list of checkboxes with counts.

use leptos::prelude::*;
use provisio_api::report::FacetValue;

use crate::components::facet_checklist::FacetChecklist;

#[component]
pub fn MultiSelect(
    /// What is being chosen, such as "Service plan".
    label: &'static str,
    #[prop(into)] options: Signal<Vec<FacetValue>>,
    #[prop(into)] selected: Signal<Vec<String>>,
    on_change: Callback<Vec<String>>,
) -> impl IntoView {
    let summary = move || {
        let chosen = selected.get();
        if chosen.is_empty() {
            format!("{label}: All")
        } else {
            format!("{label}: {}", chosen.join(", "))
        }
    };
    view! {
        <details class="multi-select">
            <summary class="button secondary">{summary}</summary>
            <fieldset class="multi-select-panel">
                <legend class="visually-hidden">{label}</legend>
                <FacetChecklist options selected on_change />
            </fieldset>
        </details>
    }
}
