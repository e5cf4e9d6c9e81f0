//! One customer's provisioning status: its state and why, what SCIM provisioned, the last
//! request, the last 24 hours by hour, links into the log, and who is mailed when it breaks.

use leptos::prelude::*;
use provisio_api::auth::Role;
use provisio_api::provisioning::{
    EventStatus, HourlyCount, NotificationSettings, ProvisioningStatus,
};

use super::{customer_logs_href, state_tone};
use crate::api;
use crate::components::states::LoadingState;
use crate::format;
use crate::session::Session;

#[component]
pub fn StatusPanel(
    customer_id: i64,
    /// In the log's head: no notification settings.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let status = LocalResource::new(move || api::provisioning_status(Some(customer_id)));
    view! {
        <section class="panel status-panel" aria-label="Provisioning status">
            <Transition fallback=|| view! { <LoadingState message="Checking provisioning…" /> }>
                {move || Suspend::new(async move {
                    match status.await.map(|mut all| all.pop()) {
                        Ok(Some(status)) => view! { <StatusFacts status compact /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(failure) => view! {
                            <p class="inline-error" role="alert">
                                {format!("The provisioning status could not be loaded: {}", failure.message)}
                            </p>
                        }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || !compact>
                <Notifications customer_id />
            </Show>
        </section>
    }
}

#[component]
fn StatusFacts(status: ProvisioningStatus, compact: bool) -> impl IntoView {
    let customer_id = status.customer_id;
    let last = status
        .last_request_at
        .map_or_else(|| "Never".to_owned(), format::utc);
    let expires = status
        .token_expires_at
        .map_or_else(|| "—".to_owned(), format::utc);
    let count = |n: u64| format::thousands(n as i64);
    view! {
        <div class="status-head">
            <h2 class="panel-title">"Provisioning status"</h2>
            <span class=format!("status-pill state-pill {}", state_tone(status.state))
                data-state=status.state.key()>{status.state.label()}</span>
        </div>
        <p class="status-reason">{status.reason.clone()}</p>
        <dl class="token-facts status-facts">
            <dt>"Users from SCIM"</dt><dd>{count(status.scim_users)}</dd>
            <dt>"Groups from SCIM"</dt><dd>{count(status.scim_groups)}</dd>
            <dt>"Last request"</dt><dd>{last}</dd>
            <dt>"Token valid until"</dt><dd>{expires}</dd>
            <dt>"Last 24 hours"</dt><dd>{format!("{} changes, {} failed", count(status.changes_24h), count(status.failures_24h))}</dd>
            <dt>"Last 7 days"</dt><dd>{format!("{} changes, {} failed", count(status.changes_7d), count(status.failures_7d))}</dd>
        </dl>
        {(!compact).then(|| view! { <HourlyChart hours=status.hourly.clone() /> })}
        <p class="status-links">
            <a class="button secondary small" href=customer_logs_href(customer_id, Some(EventStatus::Failure))>"See failures"</a>
            " "
            <a class="button link small" href=customer_logs_href(customer_id, None)>"All events"</a>
        </p>
    }
}

/// The last 24 hours as bars: changes, with their failed part.
#[component]
fn HourlyChart(hours: Vec<HourlyCount>) -> impl IntoView {
    let peak = hours.iter().map(|h| h.changes).max().unwrap_or(0).max(1);
    let described = format!(
        "Changes per hour over the last 24 hours: {} in all, {} failed.",
        hours.iter().map(|h| h.changes).sum::<u64>(),
        hours.iter().map(|h| h.failures).sum::<u64>()
    );
    view! {
        <figure class="hourly-chart">
            <div class="bars" role="img" aria-label=described.clone()>
                {hours.into_iter().map(|hour| {
                    let height = hour.changes * 100 / peak;
                    let failed = (hour.failures * 100).checked_div(hour.changes).unwrap_or(0);
                    let title = format!("{} UTC: {} changes, {} failed", hour.hour.format("%H:00"), hour.changes, hour.failures);
                    view! {
                        <span class="bar" title=title style:height=format!("{height}%")>
                            <span class="bar-failed" style:height=format!("{failed}%")></span>
                        </span>
                    }
                }).collect_view()}
            </div>
            <figcaption class="hint">"Last 24 hours by hour (UTC); the red part failed."</figcaption>
        </figure>
    }
}

/// Who is mailed when provisioning turns Failing or the token nears expiry.
#[component]
fn Notifications(customer_id: i64) -> impl IntoView {
    let can_edit = matches!(
        Session::expect().role(),
        Some(Role::MspAdmin | Role::CustomerAdmin)
    );
    let saved = LocalResource::new(move || api::provisioning_notifications(customer_id));
    let text = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(settings)) = saved.get() {
            text.set(settings.recipients.join(", "));
        }
    });
    let save = Action::new_local(move |recipients: &Vec<String>| {
        let settings = NotificationSettings {
            recipients: recipients.clone(),
        };
        async move { api::set_provisioning_notifications(customer_id, settings).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(settings)) = save.value().get() {
            text.set(settings.recipients.join(", "));
        }
    });
    let outcome = move || match save.value().get() {
        Some(Ok(settings)) if settings.recipients.is_empty() => {
            Some(("notice", "Saved: nobody is mailed.".to_owned()))
        }
        Some(Ok(_)) => Some(("notice", "Saved.".to_owned())),
        Some(Err(failure)) => Some(("form-error", failure.message)),
        None => None,
    };
    view! {
        <form class="notifications" on:submit=move |event| {
            event.prevent_default();
            let recipients = text
                .get_untracked()
                .split([',', ';', '\n'])
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
            save.dispatch(recipients);
        }>
            <label class="field">
                <span>"Email when provisioning fails or the token is about to expire"</span>
                <input type="text" name="recipients" placeholder="it@example.com, ops@example.com"
                    disabled=!can_edit bind:value=text />
            </label>
            <Show when=move || can_edit>
                <button type="submit" class="button secondary small" disabled=move || save.pending().get()>"Save recipients"</button>
            </Show>
            {move || outcome().map(|(class, message)| view! { <p class=class role="status">{message}</p> })}
        </form>
    }
}
