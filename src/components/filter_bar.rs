//! Active filters as chips (edit by clicking, remove with ×), "Add filter" and "Clear all".

use leptos::prelude::*;
use provisio_api::report::{Filter, ReportFacets};

use crate::components::filter_editor::FilterEditor;

/// Whether the editor is closed, adding a filter, or editing the filter at an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Editing {
    Closed,
    Adding,
    Existing(usize),
}

#[component]
pub fn FilterBar(
    #[prop(into)] filters: Signal<Vec<Filter>>,
    #[prop(into)] facets: Signal<Option<ReportFacets>>,
    on_change: Callback<Vec<Filter>>,
) -> impl IntoView {
    let editing = RwSignal::new(Editing::Closed);

    let apply = Callback::new(move |filter: Filter| {
        let mut next = filters.get_untracked();
        match editing.get_untracked() {
            Editing::Existing(index) if index < next.len() => next[index] = filter,
            _ => next.push(filter),
        }
        editing.set(Editing::Closed);
        on_change.run(next);
    });
    let cancel = Callback::new(move |()| editing.set(Editing::Closed));
    let remove = move |index: usize| {
        let mut next = filters.get_untracked();
        if index < next.len() {
            next.remove(index);
        }
        on_change.run(next);
    };

    let editor = move || {
        let initial = match editing.get() {
            Editing::Closed => return None,
            Editing::Adding => None,
            Editing::Existing(index) => filters.with(|f| f.get(index).cloned()),
        };
        Some(view! { <FilterEditor initial facets on_apply=apply on_cancel=cancel /> })
    };

    view! {
        <div class="filter-bar">
            <ul class="chips" aria-label="Active filters">
                {move || {
                    filters
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(index, filter)| {
                            let text = filter.describe();
                            view! {
                                <li class="chip">
                                    <button
                                        type="button"
                                        class="chip-label"
                                        title="Edit this filter"
                                        on:click=move |_| editing.set(Editing::Existing(index))
                                    >
                                        {text.clone()}
                                    </button>
                                    <button
                                        type="button"
                                        class="chip-remove"
                                        aria-label=format!("Remove filter: {text}")
                                        on:click=move |_| remove(index)
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <button
                type="button"
                class="button secondary add-filter"
                aria-expanded=move || (editing.get() == Editing::Adding).to_string()
                on:click=move |_| editing.set(Editing::Adding)
            >
                "+ Add filter"
            </button>
            <Show when=move || filters.with(|f| !f.is_empty())>
                <button type="button" class="button link clear-filters" on:click=move |_| on_change.run(vec![])>
                    "Clear all"
                </button>
            </Show>
            {editor}
        </div>
    }
}
