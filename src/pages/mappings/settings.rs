//! The customer's mapping settings: how many users a change may move to another storage
//! region before the editor asks for the customer's name.

use leptos::prelude::*;
use provisio_api::mapping::{MappingSettings, MAX_REGION_MOVE_THRESHOLD};

use crate::api;

#[component]
pub fn RegionThreshold(customer_id: i64, threshold: u32, on_saved: Callback<u32>) -> impl IntoView {
    let typed = RwSignal::new(threshold.to_string());
    let save = Action::new_local(move |value: &u32| {
        let settings = MappingSettings {
            region_move_threshold: *value,
        };
        async move { api::set_mapping_settings(customer_id, &settings).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            on_saved.run(saved.region_move_threshold);
        }
    });
    let parsed = move || {
        typed
            .get()
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_REGION_MOVE_THRESHOLD)
    };
    let message = move || match (parsed(), save.value().get()) {
        (None, _) => Some(format!(
            "A whole number from 0 to {MAX_REGION_MOVE_THRESHOLD}."
        )),
        (_, Some(Err(failure))) => Some(failure.message),
        (_, Some(Ok(_))) => Some("Saved.".to_owned()),
        _ => None,
    };
    view! {
        <details class="panel mapping-settings">
            <summary class="panel-title">"Settings"</summary>
            <form class="inline-field" on:submit=move |event: leptos::ev::SubmitEvent| {
                event.prevent_default();
                if let Some(value) = parsed() {
                    save.dispatch(value);
                }
            }>
                <label class="field">
                    <span>"Ask for the customer's name when a change moves more users than this to another storage region"</span>
                    <input type="number" name="region-move-threshold" min="0" bind:value=typed />
                </label>
                <button type="submit" class="button secondary" disabled=move || save.pending().get() || parsed().is_none()>
                    "Save"
                </button>
            </form>
            <p class="hint" role="status">{message}</p>
        </details>
    }
}
