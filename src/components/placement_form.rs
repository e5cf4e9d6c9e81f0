//! The choice of a profile, a storage region and a quota of one customer: a placement by hand,
//! for one user (their page) or many (the report's bulk actions).

use leptos::prelude::*;
use provisio_api::mapping::{Choice, MappingOptions, MAX_QUOTA_GB};
use provisio_api::user::ManualPlacement;

use crate::api;

/// Where the form starts: the names of the profile and region to preselect (else the first),
/// and the quota.
#[derive(Debug, Clone, Default)]
pub struct PlacementStart {
    pub profile: Option<String>,
    pub storage_region: Option<String>,
    pub quota_gb: Option<u32>,
}

#[component]
pub fn PlacementForm(
    customer_id: i64,
    start: PlacementStart,
    /// What placing means here, shown above the fields.
    hint: &'static str,
    submit_label: &'static str,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] failure: Signal<Option<String>>,
    on_submit: Callback<ManualPlacement>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let options = LocalResource::new(move || api::mapping_options(customer_id));
    let profile = RwSignal::new(None::<i64>);
    let region = RwSignal::new(None::<i64>);
    let quota = RwSignal::new(start.quota_gb.map(|gb| gb.to_string()).unwrap_or_default());
    let PlacementStart {
        profile: start_profile,
        storage_region: start_region,
        ..
    } = start;
    Effect::new(move |_| {
        if let Some(Ok(options)) = options.get() {
            let find = |choices: &[Choice], name: Option<&str>| {
                choices
                    .iter()
                    .find(|c| Some(c.name.as_str()) == name)
                    .or(choices.first())
                    .map(|c| c.id)
            };
            profile.set(find(&options.profiles, start_profile.as_deref()));
            region.set(find(&options.storage_regions, start_region.as_deref()));
        }
    });
    let quota_error = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let quota_gb = match parse_quota(&quota.get_untracked()) {
            Ok(quota_gb) => quota_gb,
            Err(message) => {
                quota_error.set(Some(message));
                return;
            }
        };
        quota_error.set(None);
        if let (Some(profile_id), Some(storage_region_id)) =
            (profile.get_untracked(), region.get_untracked())
        {
            on_submit.run(ManualPlacement {
                profile_id,
                storage_region_id,
                quota_gb,
            });
        }
    };
    let select = |label: &'static str,
                  name: &'static str,
                  chosen: RwSignal<Option<i64>>,
                  pick: fn(&MappingOptions) -> Vec<Choice>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <select name=name on:change=move |event| chosen.set(event_target_value(&event).parse().ok())>
                    {move || options.get().and_then(Result::ok).map(|options| pick(&options).into_iter().map(|choice| {
                        let choice_id = choice.id;
                        view! { <option value=choice_id.to_string() selected=move || chosen.get() == Some(choice_id)>{choice.name}</option> }
                    }).collect_view())}
                </select>
            </label>
        }
    };
    view! {
        <form class="panel placement-form" on:submit=submit aria-label="Place by hand">
            <p class="hint">{hint}</p>
            {select("Profile", "profile", profile, |o| o.profiles.clone())}
            {select("Storage region", "region", region, |o| o.storage_regions.clone())}
            <label class="field">
                <span>"Quota (GB; empty for unlimited)"</span>
                <input type="text" inputmode="numeric" name="quota" bind:value=quota />
                <span class="field-error" role="alert">{move || quota_error.get()}</span>
            </label>
            <p class="form-error" role="alert">{move || failure.get()}</p>
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || pending.get()>{submit_label}</button>
                <button type="button" class="button link" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

/// A quota as typed: empty for unlimited, else whole GB in range.
fn parse_quota(text: &str) -> Result<Option<u32>, String> {
    match text.trim() {
        "" => Ok(None),
        text => text
            .parse::<u32>()
            .ok()
            .filter(|gb| (1..=MAX_QUOTA_GB).contains(gb))
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "Give a whole number of GB from 1 to {MAX_QUOTA_GB}, or leave it empty for unlimited."
                )
            }),
    }
}
