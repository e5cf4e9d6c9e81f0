//! The Subscriptions page: every subscription the admin may see, with its schedule in words,
//! next and last delivery, a delivery history, and the actions on it.

mod card;
mod history;

use leptos::prelude::*;
use provisio_api::auth::{AdminAccount, Role};
use provisio_api::report::SavedView;
use provisio_api::subscription::Subscription;

use crate::api::{self, ApiFailure};
use crate::components::states::{ErrorState, LoadingState};
use crate::session::Session;
use card::{RowContext, SubscriptionCard};

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
