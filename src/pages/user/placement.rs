//! Placing a user by hand: a profile, storage region and quota of their customer that the
//! mappings then pass by, until the admin hands the user back to them.

use leptos::prelude::*;
use provisio_api::user::{ManualPlacement, UserDetail};

use crate::api::{self, ApiFailure};
use crate::components::placement_form::{PlacementForm, PlacementStart};

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
                <UserPlacementForm user=user.get_value()
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

/// The user's customer's profiles, regions and quota, starting from where the user is now.
#[component]
fn UserPlacementForm(user: UserDetail, on_done: Callback<bool>) -> impl IntoView {
    let id = user.id;
    let place = Action::new_local(move |placement: &ManualPlacement| {
        let placement = placement.clone();
        async move { api::place_user_by_hand(id, &placement).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = place.value().get() {
            on_done.run(true);
        }
    });
    let failure = Signal::derive(move || {
        place
            .value()
            .get()
            .and_then(Result::err)
            .map(|f: ApiFailure| f.message)
    });
    let start = PlacementStart {
        profile: Some(user.profile),
        storage_region: user.storage_region,
        quota_gb: user.quota_gb,
    };
    view! {
        <PlacementForm customer_id=user.customer.id start
            hint="The mappings pass this user by until you return them to the mappings."
            submit_label="Place"
            pending=place.pending()
            failure
            on_submit=Callback::new(move |placement: ManualPlacement| { place.dispatch(placement); })
            on_cancel=Callback::new(move |()| on_done.run(false)) />
    }
}
