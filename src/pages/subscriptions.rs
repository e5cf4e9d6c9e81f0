//! The Subscriptions page: every subscription the admin may see, with its schedule in words,
//! next and last delivery, a delivery history, and the actions on it.

use leptos::prelude::*;
use provisio_api::auth::{AdminAccount, Role};
use provisio_api::report::SavedView;
use provisio_api::subscription::{
    Delivery, DeliveryOutcome, SaveSubscriptionRequest, Subscription,
};

use crate::api::{self, ApiFailure};
use crate::components::states::{ErrorState, LoadingState};
use crate::components::subscription_form::SubscriptionForm;
use crate::format;
use crate::session::Session;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let session = Session::expect();
    let is_msp = session.role() == Some(Role::MspAdmin);
    let loaded = LocalResource::new(api::subscriptions);
    // The list as shown: loaded, then changed in place by each card's actions.
    let subscriptions = RwSignal::new(Vec::<Subscription>::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = loaded.get() {
            subscriptions.set(list);
        }
    });
    let saved_views = RwSignal::new(Vec::<SavedView>::new());
    let admins = RwSignal::new(Vec::<AdminAccount>::new());
    let lists = LocalResource::new(move || async move {
        let views = api::saved_views()
            .await
            .map(|l| l.views)
            .unwrap_or_default();
        let admins = if is_msp {
            api::admins().await.unwrap_or_default()
        } else {
            Vec::new()
        };
        (views, admins)
    });
    Effect::new(move |_| {
        if let Some((views, accounts)) = lists.get() {
            saved_views.set(views);
            admins.set(accounts);
        }
    });
    let notice = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<i64>);
    // Which histories are open survives a card being rebuilt with fresh data.
    let open_histories = RwSignal::new(Vec::<i64>::new());
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
    // After an action: fresh data, the list staying in place (a failure keeps it as it is).
    let refresh = Action::new_local(|()| api::subscriptions());
    Effect::new(move |_| {
        if let Some(Ok(list)) = refresh.value().get() {
            subscriptions.set(list);
        }
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
        refresh: Callback::new(move |()| {
            refresh.dispatch(());
        }),
    };
    let ids = move || subscriptions.with(|list| list.iter().map(|s| s.id).collect::<Vec<_>>());
    // A card is rebuilt when its own subscription changes, not when another's does.
    let card = move |id: i64| {
        let this = Memo::new(move |_| {
            subscriptions.with(|list| list.iter().find(|s| s.id == id).cloned())
        });
        move || {
            this.get()
                .map(|subscription| view! { <SubscriptionCard subscription context /> })
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
            <Transition fallback=|| view! { <LoadingState message="Loading subscriptions…" /> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Err(failure) => view! {
                            <ErrorState title="Subscriptions could not be loaded" message=failure.message
                                on_retry=Callback::new(move |()| loaded.refetch()) />
                        }.into_any(),
                        Ok(_) => view! {
                            <Show when=move || !subscriptions.with(Vec::is_empty) fallback=|| view! {
                                <div class="state empty-state">
                                    <h2>"No subscriptions yet"</h2>
                                    <p>"Open the User Provisioning report, set it up as you want it, and choose Manage Subscription to have it mailed on a schedule."</p>
                                    <a class="button primary" href="/">"Open the report"</a>
                                </div>
                            }>
                                <ul class="subscription-list">
                                    <For each=ids key=|id| *id children=card />
                                </ul>
                            </Show>
                        }.into_any(),
                    }
                })}
            </Transition>
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

/// What a card's buttons do.
#[derive(Debug, Clone)]
enum CardChange {
    SendNow,
    SetEnabled(bool),
    Delete,
    Assign(i64),
}

#[derive(Clone)]
enum CardOutcome {
    Delivered,
    Updated(Box<Subscription>),
    Deleted,
}

#[derive(Clone)]
struct CardDone {
    outcome: CardOutcome,
    /// What the page says about it.
    notice: String,
}

impl CardChange {
    async fn apply(self, current: Subscription) -> Result<CardDone, ApiFailure> {
        let id = current.id;
        let name = current.name.clone();
        Ok(match self {
            CardChange::SendNow => {
                let delivery = api::send_subscription_now(id).await?;
                let notice = match delivery.outcome {
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
                };
                CardDone {
                    outcome: CardOutcome::Delivered,
                    notice,
                }
            }
            CardChange::SetEnabled(on) => {
                let request = SaveSubscriptionRequest {
                    name: current.name,
                    view: current.view,
                    format: current.format,
                    schedule: current.schedule,
                    recipients: current.recipients,
                    skip_empty: current.skip_empty,
                    enabled: on,
                };
                let updated = api::update_subscription(id, &request).await?;
                CardDone {
                    notice: format!(
                        "“{}” is {}.",
                        updated.name,
                        if on { "resumed" } else { "paused" }
                    ),
                    outcome: CardOutcome::Updated(Box::new(updated)),
                }
            }
            CardChange::Delete => {
                api::delete_subscription(id).await?;
                CardDone {
                    outcome: CardOutcome::Deleted,
                    notice: format!("“{name}” is deleted."),
                }
            }
            CardChange::Assign(owner_id) => {
                let updated = api::assign_subscription_owner(id, owner_id).await?;
                CardDone {
                    notice: format!("“{}” now belongs to {}.", updated.name, updated.owner.email),
                    outcome: CardOutcome::Updated(Box::new(updated)),
                }
            }
        })
    }
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
    // Read while the history is open; read again after a delivery.
    let history: LocalResource<Option<Result<Vec<Delivery>, ApiFailure>>> =
        LocalResource::new(move || {
            let open = history_open.get();
            async move {
                if open {
                    Some(api::deliveries(id).await)
                } else {
                    None
                }
            }
        });
    let toggle_history = move |_| set_history_open(!history_open.get_untracked());
    let act = Action::new_local(move |change: &CardChange| {
        let change = change.clone();
        let current = stored.get_value();
        async move { change.apply(current).await }
    });
    Effect::new(move |_| match act.value().get() {
        Some(Ok(done)) => {
            context.notice.set(Some(done.notice));
            match done.outcome {
                CardOutcome::Delivered => {
                    set_history_open(true);
                    history.refetch();
                    context.refresh.run(());
                }
                CardOutcome::Updated(updated) => context.replace.run(*updated),
                CardOutcome::Deleted => context.removed.run(id),
            }
        }
        Some(Err(failure)) => context.failed.run(failure),
        None => {}
    });
    let sending =
        move || act.pending().get() && act.input().with(|i| matches!(i, Some(CardChange::SendNow)));
    let send_now = move |_| {
        context.notice.set(None);
        act.dispatch(CardChange::SendNow);
    };
    let set_enabled = move |on: bool| {
        act.dispatch(CardChange::SetEnabled(on));
    };
    let delete = move |_| {
        act.dispatch(CardChange::Delete);
    };
    let assign = move |owner_id: i64| {
        act.dispatch(CardChange::Assign(owner_id));
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
                <button type="button" class="button primary small send-now" disabled=sending on:click=send_now>
                    {move || if sending() { "Sending…" } else { "Send now" }}
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
fn DeliveryHistory(
    history: LocalResource<Option<Result<Vec<Delivery>, ApiFailure>>>,
) -> impl IntoView {
    move || {
        match history.get().flatten() {
        None => view! { <p class="hint" aria-busy="true">"Loading the history…"</p> }.into_any(),
        Some(Err(failure)) => view! { <p class="inline-error" role="alert">{failure.message}</p> }.into_any(),
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
