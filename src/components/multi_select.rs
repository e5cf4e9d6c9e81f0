//! A compact multi-select: a disclosure button over a list of checkboxes with counts.

use leptos::prelude::*;
use provisio_api::report::FacetValue;

use crate::format;

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
    let toggle = move |value: String, checked: bool| {
        let mut chosen = selected.get_untracked();
        chosen.retain(|v| v != &value);
        if checked {
            chosen.push(value);
        }
        on_change.run(chosen);
    };
    view! {
        <details class="multi-select">
            <summary class="button secondary">{summary}</summary>
            <fieldset class="multi-select-panel">
                <legend class="visually-hidden">{label}</legend>
                <For
                    each=move || options.get()
                    key=|option| option.value.clone()
                    children=move |option| {
                        let value = option.value.clone();
                        let is_checked = {
                            let value = value.clone();
                            move || selected.with(|chosen| chosen.contains(&value))
                        };
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    prop:checked=is_checked
                                    on:change=move |event| toggle(value.clone(), event_target_checked(&event))
                                />
                                <span>{option.value.clone()}</span>
                                <span class="count">{format::thousands(option.count as i64)}</span>
                            </label>
                        }
                    }
                />
            </fieldset>
        </details>
    }
}
