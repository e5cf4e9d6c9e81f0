//! The Subscriptions page: every subscription the admin may see, with its schedule in words,
//! next and last delivery, a delivery history, and the actions on it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use provisio_api::auth::{AdminAccount, Role};
use provisio_api::report::SavedView;
use provisio_api::subscription::{
    Delivery, DeliveryOutcome, SaveSubscriptionRequest, Subscription,
};

use crate::api::{self, ApiFailure};
use crate::components::states::{ErrorState, Load, LoadingState};
use crate::components::subscription_form::SubscriptionForm;
use crate::format;
use crate::session::Session;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let session = Session::expect();
    let is_msp = session.role() == Some(Role::MspAdmin);
    let subscriptions = RwSignal::new(Vec::<Subscription>::new());
    let saved_views = RwSignal::new(Vec::<SavedView>::new());
    let admins = RwSignal::new(Vec::<AdminAccount>::new());
    let status = RwSignal::new(Load::Loading);
    let notice = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<i64>);
    // Which histories are open survives a card being rebuilt with fresh data.
    let open_histories = RwSignal::new(Vec::<i64>::new());

    let load = move || {
        status.set(Load::Loading);
        spawn_local(async move {
            match api::subscriptions().await {
                Ok(list) => {
                    subscriptions.set(list);
                    status.set(Load::Ready);
                }
                Err(failure) => {
                    status.set(Load::Failed(failure.message));
                }
            }
        });
    };
    load();
    // After an action: fresh data without the loading state (the list stays in place).
    let refresh = move || {
        spawn_local(async move {
            // A failure keeps the list shown (a 401 has ended the session in `api`).
            if let Ok(list) = api::subscriptions().await {
                subscriptions.set(list);
            }
        });
    };
    spawn_local(async move {
        if let Ok(list) = api::saved_views().await {
            saved_views.set(list.views);
        }
        if is_msp {
            if let Ok(list) = api::admins().await {
                admins.set(list);
            }
        }
    });
    let replace = Callback::new(move |updated: Subscription| {
        subscriptions.update(|list| {
            if let Some(slot) = list.iter_mut().find(|s| s.id == updated.id) {
                *slot = updated;
            }
        });
    });
    let removed = Callback::new(move |id: i64| {
        subscriptions.update(|list| list.retain(|s| s.id != id));
    });
    let failed = Callback::new(move |failure: ApiFailure| {
        notice.set(Some(failure.message));
    });
    let context = RowContext {
        is_msp,
        admins,
        saved_views,
        editing,
        open_histories,
        notice,
        replace,
        removed,
        failed,
        refresh: Callback::new(move |()| refresh()),
    };

    let body = move || {
        match status.get() {
        Load::Loading => view! { <LoadingState message="Loading subscriptions…" /> }.into_any(),        Load::Failed(message) => view! {            <ErrorState title="Subscriptions could not be loaded" message on_retry=Callback::new(move |()| load()) />        }        .into_any(),
        Load::Ready if subscriptions.with(Vec::is_empty) => view! {
            <div class="state empty-state">
                <h2>"No subscriptions yet"</h2>
                <p>"Open the User Provisioning report, set it up as you want it, and choose Manage Subscription to have it mailed on a schedule."</p>
                <a class="button primary" href="/">"Open the report"</a>
            </div>
        }
        .into_any(),
        Load::Ready => view! {
            <ul class="subscription-list">
                <For
                    each=move || subscriptions.get()
                    key=|s| format!("{:?}", s)
                    children=move |subscription| view! { <SubscriptionCard subscription context /> }
                />
            </ul>
        }
        .into_any(),
    }
    };

    view! {
        <section class="page subscriptions-page">
            <header class="page-header">
                <div>
                    <h1>"Subscriptions"</h1>
                    <p class="subtitle">
                        {if is_msp {
                            "Every report subscription of every admin. Times are in UTC."
                        } else {
                            "Your report subscriptions. Times are in UTC."
                        }}
                    </p>
                </div>
            </header>
            <p class="notice" role="status" aria-live="polite">{move || notice.get()}</p>
            {body}
        </section>
    }
}

/// What every card needs from the page.
#[derive(Clone, Copy)]
struct RowContext {
    is_msp: bool,
    admins: RwSignal<Vec<AdminAccount>>,
    saved_views: RwSignal<Vec<SavedView>>,
    editing: RwSignal<Option<i64>>,
    open_histories: RwSignal<Vec<i64>>,
    notice: RwSignal<Option<String>>,
    replace: Callback<Subscription>,
    removed: Callback<i64>,
    failed: Callback<ApiFailure>,
    refresh: Callback<()>,
}

#[component]
fn SubscriptionCard(subscription: Subscription, context: RowContext) -> impl IntoView {
    let id = subscription.id;
    let stored = StoredValue::new(subscription.clone());
    let confirming_delete = RwSignal::new(false);
    let history_open =
        Signal::derive(move || context.open_histories.with(|open| open.contains(&id)));
    let set_history_open = move |open: bool| {
        context.open_histories.update(|list| {
            list.retain(|other| *other != id);
            if open {
                list.push(id);
            }
        });
    };
    let history = RwSignal::new(None::<Result<Vec<Delivery>, String>>);
    let sending = RwSignal::new(false);
    let load_history = move || {
        spawn_local(async move {
            history.set(Some(api::deliveries(id).await.map_err(|f| f.message)));
        });
    };
    if history_open.get_untracked() {
        load_history();
    }
    let toggle_history = move |_| {
        let open = !history_open.get_untracked();
        set_history_open(open);
        if open {
            load_history();
        }
    };
    let send_now = move |_| {
        sending.set(true);
        context.notice.set(None);
        spawn_local(async move {
            match api::send_subscription_now(id).await {
                Ok(delivery) => {
                    let name = stored.with_value(|s| s.name.clone());
                    context.notice.set(Some(match delivery.outcome {
                        DeliveryOutcome::Sent => {
                            format!("“{name}” was sent to {}.", delivery.recipients.join(", "))
                        }
                        DeliveryOutcome::Skipped => {
                            format!("“{name}” was skipped: the report is empty.")
                        }
                        _ => format!(
                            "“{name}” could not be sent: {}",
                            delivery.error.unwrap_or_default()
                        ),
                    }));
                    set_history_open(true);
                    load_history();
                    context.refresh.run(());
                }
                Err(failure) => context.failed.run(failure),
            }
            sending.set(false);
        });
    };
    let set_enabled = move |on: bool| {
        let s = stored.get_value();
        let request = SaveSubscriptionRequest {
            name: s.name,
            view: s.view,
            format: s.format,
            schedule: s.schedule,
            recipients: s.recipients,
            skip_empty: s.skip_empty,
            enabled: on,
        };
        spawn_local(async move {
            match api::update_subscription(id, &request).await {
                Ok(updated) => {
                    context.notice.set(Some(format!(
                        "“{}” is {}.",
                        updated.name,
                        if on { "resumed" } else { "paused" }
                    )));
                    context.replace.run(updated);
                }
                Err(failure) => context.failed.run(failure),
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            match api::delete_subscription(id).await {
                Ok(()) => {
                    context.notice.set(Some(format!(
                        "“{}” is deleted.",
                        stored.with_value(|s| s.name.clone())
                    )));
                    context.removed.run(id);
                }
                Err(failure) => context.failed.run(failure),
            }
        });
    };
    let assign = move |owner_id: i64| {
        spawn_local(async move {
            match api::assign_subscription_owner(id, owner_id).await {
                Ok(updated) => {
                    context.notice.set(Some(format!(
                        "“{}” now belongs to {}.",
                        updated.name, updated.owner.email
                    )));
                    context.replace.run(updated);
                }
                Err(failure) => context.failed.run(failure),
            }
        });
    };
    let me = Session::expect().me().map(|m| m.id);
    let s = subscription;
    let status = if s.owner.disabled {
        ("status-pill warn", "Owner disabled")
    } else if s.enabled {
        ("status-pill ok", "Active")
    } else {
        ("status-pill off", "Paused")
    };
    let view_text = match (&s.view, &s.view_name) {
        (provisio_api::subscription::SubscribedView::SavedView { .. }, Some(name)) => {
            format!("Follows the saved view “{name}”")
        }
        (provisio_api::subscription::SubscribedView::SavedView { .. }, None) => {
            "Follows a saved view that no longer exists".to_owned()
        }
        _ => "A snapshot of the report view".to_owned(),
    };
    let next = s
        .next_delivery
        .map(format::utc_and_local)
        .unwrap_or_else(|| "—".to_owned());
    let last = s
        .last_delivery
        .as_ref()
        .map(|d| {
            format!(
                "{} · {}",
                format::utc(d.finished_at.unwrap_or(d.scheduled_for)),
                d.outcome.label()
            )
        })
        .unwrap_or_else(|| "Not delivered yet".to_owned());
    let enabled = s.enabled;
    let owner_disabled = s.owner.disabled;
    let can_take_over = context.is_msp && me != Some(s.owner.id);
    view! {
        <li class="subscription-card panel" data-subscription=s.name.clone()>
            <div class="subscription-head">
                <div>
                    <h2 class="subscription-name">{s.name.clone()}</h2>
                    <p class="hint">{format!("{} · {} · {}", s.schedule_text, s.format.label(), view_text)}</p>
                </div>
                <span class=status.0>{status.1}</span>
            </div>
            <dl class="subscription-facts">
                <dt>"Owner"</dt>
                <dd>{format!("{} ({})", s.owner.display_name, s.owner.email)}</dd>
                <dt>"Recipients"</dt>
                <dd>{s.recipients.join(", ")}</dd>
                <dt>"Next delivery"</dt>
                <dd class="next-delivery">{next}</dd>
                <dt>"Last delivery"</dt>
                <dd class="last-delivery">{last}</dd>
            </dl>
            <div class="card-actions">
                <button type="button" class="button primary small send-now" disabled=move || sending.get() on:click=send_now>
                    {move || if sending.get() { "Sending…" } else { "Send now" }}
                </button>
                <button type="button" class="button secondary small" on:click=move |_| context.editing.set(Some(id))>"Edit"</button>
                <button type="button" class="button secondary small pause" on:click=move |_| set_enabled(!enabled)>
                    {if enabled { "Pause" } else { "Resume" }}
                </button>
                <button type="button" class="button secondary small history" aria-expanded=move || history_open.get().to_string() on:click=toggle_history>
                    "History"
                </button>
                <Show when=move || can_take_over>
                    <label class="inline-field">
                        <span class="visually-hidden">"Owner"</span>
                        <select class="reassign" aria-label="Give to another admin" on:change=move |e| {
                            if let Ok(owner) = event_target_value(&e).parse::<i64>() {
                                assign(owner);
                            }
                        }>
                            <option value="">{if owner_disabled { "Take over or reassign…" } else { "Reassign…" }}</option>
                            {move || context.admins.get().into_iter().filter(|a| !a.disabled).map(|a| {
                                let label = if Some(a.id) == me { format!("Me ({})", a.email) } else { a.email.clone() };
                                view! { <option value=a.id.to_string()>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show
                    when=move || confirming_delete.get()
                    fallback=move || view! {
                        <button type="button" class="button link danger delete" on:click=move |_| confirming_delete.set(true)>"Delete"</button>
                    }
                >
                    <span class="confirm" role="alertdialog" aria-label="Delete subscription">
                        "Delete it and its history?"
                        <button type="button" class="button danger small confirm-yes" on:click=delete>"Delete"</button>
                        <button type="button" class="button link small" on:click=move |_| confirming_delete.set(false)>"Cancel"</button>
                    </span>
                </Show>
            </div>
            <Show when=move || context.editing.get() == Some(id)>
                <SubscriptionForm
                    existing=stored.get_value()
                    saved_views=Signal::derive(move || context.saved_views.get())
                    on_saved=Callback::new(move |updated: Subscription| {
                        context.editing.set(None);
                        context.notice.set(Some(format!("“{}” is saved.", updated.name)));
                        context.replace.run(updated);
                    })
                    on_cancel=Callback::new(move |()| context.editing.set(None))
                />
            </Show>
            <Show when=move || history_open.get()>
                <DeliveryHistory history />
            </Show>
        </li>
    }
}

#[component]
fn DeliveryHistory(history: RwSignal<Option<Result<Vec<Delivery>, String>>>) -> impl IntoView {
    move || {
        match history.get() {
        None => view! { <p class="hint" aria-busy="true">"Loading the history…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="inline-error" role="alert">{message}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! { <p class="hint">"No deliveries yet."</p> }.into_any(),
        Some(Ok(list)) => view! {
            <table class="data-table history-table">
                <caption class="visually-hidden">"Delivery history"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Recipients"</th>
                        <th scope="col">"Rows"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|d| view! {
                        <tr class="delivery" data-outcome=d.outcome.key()>
                            <td>{format::utc(d.finished_at.unwrap_or(d.scheduled_for))}</td>
                            <td>{if d.on_demand { "Send now".to_owned() } else { format!("Scheduled {}", format::utc(d.scheduled_for)) }}</td>
                            <td>{d.recipients.join(", ")}</td>
                            <td>{d.rows.map(|n| format::thousands(i64::try_from(n).unwrap_or(i64::MAX))).unwrap_or_else(|| "—".into())}</td>
                            <td>{d.bytes.map(format::bytes).unwrap_or_else(|| "—".into())}</td>
                            <td>{d.outcome.label()}</td>
                            <td>{d.error.clone().unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    }
    }
}
