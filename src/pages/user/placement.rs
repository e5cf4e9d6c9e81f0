//! Placing a user by hand: a profile, storage region and quota of their customer that the
//! mappings then pass by, until the admin hands the user back to them.

use leptos::prelude::*;
use provisio_api::mapping::{Choice, MAX_QUOTA_GB};
use provisio_api::user::{ManualPlacement, UserDetail};

use crate::api::{self, ApiFailure};

#[component]
pub fn PlacementByHand(user: UserDetail, on_changed: Callback<()>) -> impl IntoView {
    let id = user.id;
    let open = RwSignal::new(false);
    let clear = Action::new_local(move |()| api::clear_manual_placement(id));
    Effect::new(move |_| {
        if let Some(Ok(_)) = clear.value().get() {
            on_changed.run(());
        }
    });
    let clear_failure = move || clear.value().get().and_then(Result::err).map(|f| f.message);
    let manual = user.placement_manual;
    let user = StoredValue::new(user);
    view! {
        <div class="placement-by-hand">
            <Show when=move || !open.get()>
                <button type="button" class="button secondary place-by-hand" on:click=move |_| open.set(true)>
                    "Place by hand…"
                </button>
                <Show when=move || manual>
                    <button type="button" class="button link return-to-mappings"
                        disabled=move || clear.pending().get()
                        on:click=move |_| { clear.dispatch(()); }>
                        "Return to the mappings"
                    </button>
                </Show>
            </Show>
            <p class="form-error" role="alert">{clear_failure}</p>
            <Show when=move || open.get()>
                <PlacementForm user=user.get_value()
                    on_done=Callback::new(move |changed: bool| {
                        open.set(false);
                        if changed {
                            on_changed.run(());
                        }
                    }) />
            </Show>
        </div>
    }
}

/// The choice of a profile, a region and a quota, starting from where the user is now.
#[component]
fn PlacementForm(user: UserDetail, on_done: Callback<bool>) -> impl IntoView {
    let id = user.id;
    let customer_id = user.customer.id;
    let options = LocalResource::new(move || api::mapping_options(customer_id));
    let profile = RwSignal::new(None::<i64>);
    let region = RwSignal::new(None::<i64>);
    let quota = RwSignal::new(user.quota_gb.map(|gb| gb.to_string()).unwrap_or_default());
    let (current_profile, current_region) = (user.profile.clone(), user.storage_region.clone());
    Effect::new(move |_| {
        if let Some(Ok(options)) = options.get() {
            let find = |choices: &[Choice], name: Option<&str>| {
                choices
                    .iter()
                    .find(|c| Some(c.name.as_str()) == name)
                    .or(choices.first())
                    .map(|c| c.id)
            };
            profile.set(find(&options.profiles, Some(&current_profile)));
            region.set(find(&options.storage_regions, current_region.as_deref()));
        }
    });
    let place = Action::new_local(move |placement: &ManualPlacement| {
        let placement = placement.clone();
        async move { api::place_user_by_hand(id, &placement).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = place.value().get() {
            on_done.run(true);
        }
    });
    let quota_error = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let text = quota.get_untracked();
        let quota_gb = match text.trim() {
            "" => None,
            text => match text
                .parse::<u32>()
                .ok()
                .filter(|gb| (1..=MAX_QUOTA_GB).contains(gb))
            {
                Some(gb) => Some(gb),
                None => {
                    quota_error.set(Some(format!(
                        "Give a whole number of GB from 1 to {MAX_QUOTA_GB}, or leave it empty for unlimited."
                    )));
                    return;
                }
            },
        };
        quota_error.set(None);
        if let (Some(profile_id), Some(storage_region_id)) =
            (profile.get_untracked(), region.get_untracked())
        {
            place.dispatch(ManualPlacement {
                profile_id,
                storage_region_id,
                quota_gb,
            });
        }
    };
    let failure = move || {
        place
            .value()
            .get()
            .and_then(Result::err)
            .map(|f: ApiFailure| f.message)
    };
    let select =
        |label: &'static str,
         name: &'static str,
         chosen: RwSignal<Option<i64>>,
         pick: fn(&provisio_api::mapping::MappingOptions) -> Vec<Choice>| {
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
            <p class="hint">"The mappings pass this user by until you return them to the mappings."</p>
            {select("Profile", "profile", profile, |o| o.profiles.clone())}
            {select("Storage region", "region", region, |o| o.storage_regions.clone())}
            <label class="field">
                <span>"Quota (GB; empty for unlimited)"</span>
                <input type="text" inputmode="numeric" name="quota" bind:value=quota />
                <span class="field-error" role="alert">{move || quota_error.get()}</span>
            </label>
            <p class="form-error" role="alert">{failure}</p>
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || place.pending().get()>"Place"</button>
                <button type="button" class="button link" on:click=move |_| on_done.run(false)>"Cancel"</button>
            </div>
        </form>
    }
}
