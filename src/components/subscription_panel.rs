//! "Manage Subscription" on the report: the admin's subscriptions, and a form to subscribe to
//! the view on screen.

use leptos::prelude::*;
use provisio_api::report::SavedView;
use provisio_api::subscription::Subscription;

use crate::api::{self, ApiFailure};
use crate::components::subscription_form::{CurrentView, SubscriptionForm};
use crate::format;
use crate::session::Session;

#[component]
pub fn SubscriptionPanel(
    /// The report view on screen, as a snapshot to subscribe to.
    current: Signal<CurrentView>,
    saved_views: Signal<Vec<SavedView>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let creating = RwSignal::new(false);
    let editing = RwSignal::new(None::<Subscription>);
    let notice = RwSignal::new(None::<String>);
    let me = Session::expect().me().map(|m| m.id);
    // Read when the panel opens (and after each save), not with every report page.
    let mine: LocalResource<Result<Vec<Subscription>, ApiFailure>> =
        LocalResource::new(move || {
            let open = open.get();
            async move {
                if !open {
                    return Ok(Vec::new());
                }
                let all = api::subscriptions().await?;
                Ok(all.into_iter().filter(|s| Some(s.owner.id) == me).collect())
            }
        });
    let toggle = move |_| {
        notice.set(None);
        open.update(|open| *open = !*open);
    };
    let list = move |list: Vec<Subscription>| {
        if list.is_empty() {
            return view! { <p class="hint">"You have no subscriptions to this report yet."</p> }
                .into_any();
        }
        view! {
            <ul class="my-subscriptions">
                <For each=move || list.clone() key=|s| s.id let:subscription>
                    <SubscriptionItem subscription on_edit=Callback::new(move |s: Subscription| {
                        creating.set(false);
                        editing.set(Some(s));
                    }) />
                </For>
            </ul>
        }
        .into_any()
    };
    view! {
        <div class="subscription-panel">
            <button
                type="button"
                class="button secondary manage-subscription"
                aria-expanded=move || open.get().to_string()
                aria-controls="subscription-panel"
                on:click=toggle
            >
                "Manage Subscription"
            </button>
            <Show when=move || open.get()>
                <section id="subscription-panel" class="panel subscription-drawer" aria-label="Subscriptions to this report">
                    <div class="section-header">
                        <h2>"Your subscriptions"</h2>
                        <a href="/subscriptions">"All subscriptions and history →"</a>
                    </div>
                    <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
                    <Transition fallback=|| view! { <p class="hint" aria-busy="true">"Loading your subscriptions…"</p> }>
                        {move || Suspend::new(async move {
                            match mine.await {
                                Ok(subscriptions) => list(subscriptions),
                                Err(failure) => view! { <p class="inline-error" role="alert">{failure.message}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                    {move || editing.get().map(|existing| view! {
                        <SubscriptionForm
                            existing
                            saved_views
                            on_saved=Callback::new(move |saved: Subscription| {
                                editing.set(None);
                                notice.set(Some(format!("Saved: “{}”, {}.", saved.name, saved.schedule_text)));
                                mine.refetch();
                            })
                            on_cancel=Callback::new(move |()| editing.set(None))
                        />
                    })}
                    <Show
                        when=move || creating.get()
                        fallback=move || view! {
                            <button type="button" class="button primary new-subscription" on:click=move |_| {
                                editing.set(None);
                                creating.set(true);
                            }>
                                "+ Subscribe to this view"
                            </button>
                        }
                    >
                        <SubscriptionForm
                            current=current.get_untracked()
                            saved_views
                            on_saved=Callback::new(move |saved: Subscription| {
                                creating.set(false);
                                notice.set(Some(format!("Subscribed: “{}”, {}.", saved.name, saved.schedule_text)));
                                mine.refetch();
                            })
                            on_cancel=Callback::new(move |()| creating.set(false))
                        />
                    </Show>
                </section>
            </Show>
        </div>
    }
}

/// One of the admin's subscriptions: its schedule, next delivery, and Edit.
#[component]
fn SubscriptionItem(subscription: Subscription, on_edit: Callback<Subscription>) -> impl IntoView {
    let next = subscription
        .next_delivery
        .map(|at| format!("next {}", format::utc_and_local(at)))
        .unwrap_or_else(|| "paused".to_owned());
    let name = subscription.name.clone();
    let summary = format!(" · {} · {next} ", subscription.schedule_text);
    let stored = StoredValue::new(subscription);
    view! {
        <li>
            <strong>{name.clone()}</strong>
            <span class="hint">{summary}</span>
            <button
                type="button"
                class="button link small edit-subscription"
                aria-label=format!("Edit {name}")
                on:click=move |_| on_edit.run(stored.get_value())
            >
                "Edit"
            </button>
        </li>
    }
}
