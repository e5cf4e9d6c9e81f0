//! Checkboxes for the values of a field, each with its row count; shared by the service-plan
//! multi-select and the "is any of" filter.

use leptos::prelude::*;
use provisio_api::report::FacetValue;

use crate::format;

#[component]
pub fn FacetChecklist(
    #[prop(into)] options: Signal<Vec<FacetValue>>,
    #[prop(into)] selected: Signal<Vec<String>>,
    on_change: Callback<Vec<String>>,
) -> impl IntoView {
    let toggle = move |value: String, checked: bool| {
        let mut chosen = selected.get_untracked();
        chosen.retain(|v| v != &value);
        if checked {
            chosen.push(value);
        }
        on_change.run(chosen);
    };
    view! {
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
    }
}
