//! "Manage Subscription" on the report: the admin's subscriptions, and a form to subscribe to
//! the view on screen.

use leptos::prelude::*;
use leptos::task::spawn_local;
use provisio_api::report::SavedView;
use provisio_api::subscription::Subscription;

use crate::api;
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
    let mine = RwSignal::new(None::<Result<Vec<Subscription>, String>>);
    let notice = RwSignal::new(None::<String>);
    let me = Session::expect().me().map(|m| m.id);
    let load = move || {
        spawn_local(async move {
            mine.set(Some(
                api::subscriptions()
                    .await
                    .map(|list| {
                        list.into_iter()
                            .filter(|s| Some(s.owner.id) == me)
                            .collect()
                    })
                    .map_err(|f| f.message),
            ));
        });
    };
    let toggle = move |_| {
        let next = !open.get_untracked();
        open.set(next);
        if next {
            notice.set(None);
            load();
        }
    };
    let list = move || {
        match mine.get() {
        None => view! { <p class="hint" aria-busy="true">"Loading your subscriptions…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="inline-error" role="alert">{message}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => {
            view! { <p class="hint">"You have no subscriptions to this report yet."</p> }.into_any()
        }
        Some(Ok(list)) => view! {
            <ul class="my-subscriptions">
                {list.into_iter().map(|s| {
                    let next = s.next_delivery.map(|at| format!("next {}", format::utc_and_local(at))).unwrap_or_else(|| "paused".to_owned());
                    let name = s.name.clone();
                    let schedule_text = s.schedule_text.clone();
                    let stored = StoredValue::new(s);
                    view! {
                        <li>
                            <strong>{name.clone()}</strong>
                            <span class="hint">{format!(" · {schedule_text} · {next} ")}</span>
                            <button
                                type="button"
                                class="button link small edit-subscription"
                                aria-label=format!("Edit {name}")
                                on:click=move |_| {
                                    creating.set(false);
                                    editing.set(Some(stored.get_value()));
                                }
                            >
                                "Edit"
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any(),
    }
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
                    {list}
                    {move || editing.get().map(|existing| view! {
                        <SubscriptionForm
                            existing
                            saved_views
                            on_saved=Callback::new(move |saved: Subscription| {
                                editing.set(None);
                                notice.set(Some(format!("Saved: “{}”, {}.", saved.name, saved.schedule_text)));
                                load();
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
                                load();
                            })
                            on_cancel=Callback::new(move |()| creating.set(false))
                        />
                    </Show>
                </section>
            </Show>
        </div>
    }
}
