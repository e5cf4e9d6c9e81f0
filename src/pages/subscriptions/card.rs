//! One subscription's card: its facts, its actions (send now, edit, pause or resume, history,
//! reassign, delete) and their outcome.

use leptos::prelude::*;
use provisio_api::auth::AdminAccount;
use provisio_api::report::SavedView;
use provisio_api::subscription::{
    Delivery, DeliveryOutcome, SaveSubscriptionRequest, SubscribedView, Subscription,
};

use super::history::DeliveryHistory;
use crate::api::{self, ApiFailure};
use crate::components::subscription_form::SubscriptionForm;
use crate::format;
use crate::session::Session;

/// What every card needs from the page.
#[derive(Clone, Copy)]
pub struct RowContext {
    pub is_msp: bool,
    pub admins: RwSignal<Vec<AdminAccount>>,
    pub saved_views: RwSignal<Vec<SavedView>>,
    pub editing: RwSignal<Option<i64>>,
    pub open_histories: RwSignal<Vec<i64>>,
    pub notice: RwSignal<Option<String>>,
    pub replace: Callback<Subscription>,
    pub removed: Callback<i64>,
    pub failed: Callback<ApiFailure>,
    pub refresh: Callback<()>,
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

/// A card's history panel and its actions: a Copy handle its pieces share.
#[derive(Clone, Copy)]
struct CardActions {
    act: Action<CardChange, Result<CardDone, ApiFailure>>,
    history_open: Signal<bool>,
    history: LocalResource<Option<Result<Vec<Delivery>, ApiFailure>>>,
}

impl CardActions {
    fn run(self, change: CardChange) {
        self.act.dispatch(change);
    }

    fn sending(self) -> bool {
        self.act.pending().get()
            && self
                .act
                .input()
                .with(|i| matches!(i, Some(CardChange::SendNow)))
    }
}

fn use_card_actions(stored: StoredValue<Subscription>, context: RowContext) -> CardActions {
    let id = stored.with_value(|s| s.id);
    let history_open =
        Signal::derive(move || context.open_histories.with(|open| open.contains(&id)));
    // Read while the history is open; read again after a delivery.
    let history = LocalResource::new(move || {
        let open = history_open.get();
        async move {
            if open {
                Some(api::deliveries(id).await)
            } else {
                None
            }
        }
    });
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
                    set_history_open(context, id, true);
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
    CardActions {
        act,
        history_open,
        history,
    }
}

fn set_history_open(context: RowContext, id: i64, open: bool) {
    context.open_histories.update(|list| {
        list.retain(|other| *other != id);
        if open {
            list.push(id);
        }
    });
}

#[component]
pub fn SubscriptionCard(subscription: Subscription, context: RowContext) -> impl IntoView {
    let id = subscription.id;
    let stored = StoredValue::new(subscription.clone());
    let actions = use_card_actions(stored, context);
    let history_open = actions.history_open;
    let enabled = subscription.enabled;
    let me = Session::expect().me().map(|m| m.id);
    let can_take_over = context.is_msp && me != Some(subscription.owner.id);
    let owner_disabled = subscription.owner.disabled;
    let name = subscription.name.clone();
    view! {
        <li class="subscription-card panel" data-subscription=name>
            <SubscriptionFacts subscription />
            <div class="card-actions">
                <button
                    type="button"
                    class="button primary small send-now"
                    disabled=move || actions.sending()
                    on:click=move |_| {
                        context.notice.set(None);
                        actions.run(CardChange::SendNow);
                    }
                >
                    {move || if actions.sending() { "Sending…" } else { "Send now" }}
                </button>
                <button type="button" class="button secondary small" on:click=move |_| context.editing.set(Some(id))>"Edit"</button>
                <button type="button" class="button secondary small pause" on:click=move |_| actions.run(CardChange::SetEnabled(!enabled))>
                    {if enabled { "Pause" } else { "Resume" }}
                </button>
                <button
                    type="button"
                    class="button secondary small history"
                    aria-expanded=move || history_open.get().to_string()
                    on:click=move |_| set_history_open(context, id, !history_open.get_untracked())
                >
                    "History"
                </button>
                <Show when=move || can_take_over>
                    <ReassignSelect context me owner_disabled on_assign=Callback::new(move |owner| actions.run(CardChange::Assign(owner))) />
                </Show>
                <ConfirmDelete on_delete=Callback::new(move |()| actions.run(CardChange::Delete)) />
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
                <DeliveryHistory history=actions.history />
            </Show>
        </li>
    }
}

/// Name, schedule, status, owner, recipients and deliveries.
#[component]
fn SubscriptionFacts(subscription: Subscription) -> impl IntoView {
    let s = subscription;
    let status = if s.owner.disabled {
        ("status-pill warn", "Owner disabled")
    } else if s.enabled {
        ("status-pill ok", "Active")
    } else {
        ("status-pill off", "Paused")
    };
    let view_text = match (&s.view, &s.view_name) {
        (SubscribedView::SavedView { .. }, Some(name)) => {
            format!("Follows the saved view “{name}”")
        }
        (SubscribedView::SavedView { .. }, None) => {
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
    view! {
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
    }
}

/// Gives the subscription to another enabled admin (an MSP admin's action).
#[component]
fn ReassignSelect(
    context: RowContext,
    me: Option<i64>,
    owner_disabled: bool,
    on_assign: Callback<i64>,
) -> impl IntoView {
    view! {
        <label class="inline-field">
            <span class="visually-hidden">"Owner"</span>
            <select class="reassign" aria-label="Give to another admin" on:change=move |e| {
                if let Ok(owner) = event_target_value(&e).parse::<i64>() {
                    on_assign.run(owner);
                }
            }>
                <option value="">{if owner_disabled { "Take over or reassign…" } else { "Reassign…" }}</option>
                {move || context.admins.get().into_iter().filter(|a| !a.disabled).map(|a| {
                    let label = if Some(a.id) == me { format!("Me ({})", a.email) } else { a.email.clone() };
                    view! { <option value=a.id.to_string()>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn ConfirmDelete(on_delete: Callback<()>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || view! {
                <button type="button" class="button link danger delete" on:click=move |_| confirming.set(true)>"Delete"</button>
            }
        >
            <span class="confirm" role="alertdialog" aria-label="Delete subscription">
                "Delete it and its history?"
                <button type="button" class="button danger small confirm-yes" on:click=move |_| on_delete.run(())>"Delete"</button>
                <button type="button" class="button link small" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </span>
        </Show>
    }
}
