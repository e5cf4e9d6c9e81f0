//! The customer's User-Identifier Custom Attribute: which SCIM attribute fills the report's
//! Custom Attribute Name and Value of their SCIM users, and whether the report shows it.

use leptos::prelude::*;
use provisio_api::scim::{CustomAttributeSetting, CUSTOM_ATTRIBUTE_SOURCES};

use crate::api;
use crate::components::states::{ErrorState, LoadingState};

#[component]
pub fn CustomAttributePanel(customer_id: i64, can_manage: bool) -> impl IntoView {
    let setting = LocalResource::new(move || api::custom_attribute(customer_id));
    view! {
        <section class="panel custom-attribute" aria-labelledby="custom-attribute-title">
            <h2 class="panel-title" id="custom-attribute-title">"User-Identifier Custom Attribute"</h2>
            <p class="hint">
                "The SCIM attribute that fills the report's Custom Attribute Name and Value for this customer's SCIM users; every change from the identity provider keeps it current. Users from AD/LDAP keep their directory's."
            </p>
            <Transition fallback=|| view! { <LoadingState message="Loading the setting…" /> }>
                {move || Suspend::new(async move {
                    match setting.await {
                        Ok(saved) => view! { <CustomAttributeForm customer_id saved can_manage /> }.into_any(),
                        Err(failure) => view! {
                            <ErrorState title="The setting could not be loaded" message=failure.message
                                on_retry=Callback::new(move |()| setting.refetch()) />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CustomAttributeForm(
    customer_id: i64,
    saved: CustomAttributeSetting,
    can_manage: bool,
) -> impl IntoView {
    let attribute = RwSignal::new(saved.attribute.unwrap_or_default());
    let shown = RwSignal::new(saved.shown);
    let save = Action::new_local(move |setting: &CustomAttributeSetting| {
        let setting = setting.clone();
        async move { api::set_custom_attribute(customer_id, &setting).await }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen = attribute.get_untracked();
        save.dispatch(CustomAttributeSetting {
            attribute: (!chosen.is_empty()).then_some(chosen),
            shown: shown.get_untracked(),
        });
    };
    let saved_note = move || {
        matches!(save.value().get(), Some(Ok(_)))
            .then_some("Saved: this customer's SCIM users are refilled.")
    };
    let failure = move || save.value().get().and_then(Result::err).map(|f| f.message);
    view! {
        <form class="custom-attribute-form" on:submit=submit>
            <label class="field">
                <span>"Attribute"</span>
                <select name="custom-attribute" disabled=!can_manage
                    on:change=move |event| attribute.set(event_target_value(&event))>
                    <option value="" prop:selected=move || attribute.get().is_empty()>"None"</option>
                    {CUSTOM_ATTRIBUTE_SOURCES
                        .iter()
                        .copied()
                        .map(|name| view! {
                            <option value=name prop:selected=move || attribute.get() == name>{name}</option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="checkbox">
                <input type="checkbox" name="custom-attribute-shown" disabled=!can_manage
                    prop:checked=shown on:change=move |event| shown.set(event_target_checked(&event)) />
                "Show it on the User Provisioning report"
            </label>
            {can_manage.then(|| view! {
                <button type="submit" class="button primary small" disabled=move || save.pending().get()>"Save"</button>
            })}
            <p class="form-status" role="status">{saved_note}</p>
            <p class="form-error" role="alert">{failure}</p>
        </form>
    }
}
