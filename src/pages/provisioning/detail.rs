//! One event's detail panel: Steps, Troubleshooting, Modified properties and Summary tabs.
//! Arrow keys move between the tabs; Escape closes the panel.

use leptos::prelude::*;
use provisio_api::provisioning::{EventDetail, PropertyChange, StepStatus};

use super::table::status_tone;
use crate::api;
use crate::components::states::{ErrorState, LoadingState};
use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Steps,
    Troubleshooting,
    Properties,
    Summary,
}

impl Tab {
    const ALL: [Tab; 4] = [
        Tab::Steps,
        Tab::Troubleshooting,
        Tab::Properties,
        Tab::Summary,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Steps => "Steps",
            Tab::Troubleshooting => "Troubleshooting",
            Tab::Properties => "Modified properties",
            Tab::Summary => "Summary",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::Steps => "steps",
            Tab::Troubleshooting => "troubleshooting",
            Tab::Properties => "properties",
            Tab::Summary => "summary",
        }
    }

    /// The tab `by` places along, wrapping.
    fn step(self, by: isize) -> Tab {
        let at = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(at + by).rem_euclid(Tab::ALL.len() as isize) as usize]
    }
}

#[component]
pub fn EventPanel(id: i64, on_close: Callback<()>) -> impl IntoView {
    let detail = LocalResource::new(move || api::provisioning_event(id));
    view! {
        <aside class="event-panel panel" role="dialog" aria-label="Event details"
            on:keydown=move |event| if event.key() == "Escape" { on_close.run(()) }>
            <header class="section-header">
                <h2 class="panel-title">"Event details"</h2>
                <button type="button" class="button link close-panel" on:click=move |_| on_close.run(())>"Close"</button>
            </header>
            <Transition fallback=|| view! { <LoadingState message="Loading the event…" /> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <EventTabs detail /> }.into_any(),
                        Err(failure) => view! {
                            <ErrorState title="The event could not be loaded" message=failure.message
                                on_retry=Callback::new(move |()| detail.refetch()) />
                        }.into_any(),
                    }
                })}
            </Transition>
        </aside>
    }
}

#[component]
fn EventTabs(detail: EventDetail) -> impl IntoView {
    // A failure opens on its advice; anything else on its steps.
    let tab = RwSignal::new(if detail.troubleshooting.is_some() {
        Tab::Troubleshooting
    } else {
        Tab::Steps
    });
    let detail = StoredValue::new(detail);
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        let by = match event.key().as_str() {
            "ArrowRight" => 1,
            "ArrowLeft" => -1,
            _ => return,
        };
        event.prevent_default();
        let next = tab.get_untracked().step(by);
        tab.set(next);
        if let Some(element) = document().get_element_by_id(&format!("tab-{}", next.id())) {
            if let Ok(element) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element) {
                let _ = element.focus();
            }
        }
    };
    let event = detail.with_value(|d| d.event.clone());
    view! {
        <p class="event-headline">
            <strong>{event.identity.clone()}</strong>
            " · "{event.kind.label()}" · "
            <span class=format!("status-pill {}", status_tone(event.status))>{event.status.label()}</span>
        </p>
        <div class="tabs" role="tablist" aria-label="Event details" on:keydown=on_key>
            {Tab::ALL.into_iter().map(|t| view! {
                <button type="button" role="tab" id=format!("tab-{}", t.id())
                    aria-controls=format!("panel-{}", t.id())
                    aria-selected=move || (tab.get() == t).to_string()
                    tabindex=move || if tab.get() == t { "0" } else { "-1" }
                    class="tab" class:active=move || tab.get() == t
                    on:click=move |_| tab.set(t)>{t.label()}</button>
            }).collect_view()}
        </div>
        <div class="tab-panel" role="tabpanel" id=move || format!("panel-{}", tab.get().id())
            aria-labelledby=move || format!("tab-{}", tab.get().id())>
            {move || detail.with_value(|d| match tab.get() {
                Tab::Steps => steps(d).into_any(),
                Tab::Troubleshooting => troubleshooting(d).into_any(),
                Tab::Properties => properties(&d.changes).into_any(),
                Tab::Summary => summary(d).into_any(),
            })}
        </div>
    }
}

fn steps(detail: &EventDetail) -> impl IntoView {
    let mark = |status: StepStatus| match status {
        StepStatus::Success => ("ok", "Done"),
        StepStatus::Failure => ("bad", "Failed"),
        StepStatus::Skipped => ("off", "Skipped"),
        StepStatus::NotReached => ("off", "Not reached"),
    };
    view! {
        <ol class="event-steps">
            {detail.steps.iter().map(|step| {
                let (tone, word) = mark(step.status);
                view! {
                    <li class="event-step" data-status=format!("{:?}", step.status).to_lowercase()>
                        <span class=format!("status-pill {tone}")>{word}</span>
                        <strong>{step.name.clone()}</strong>
                        <span class="hint">{step.detail.clone()}</span>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

fn troubleshooting(detail: &EventDetail) -> impl IntoView {
    match &detail.troubleshooting {
        None => view! { <p class="hint">"Nothing to troubleshoot: this event did not fail."</p> }.into_any(),
        Some(advice) => view! {
            <dl class="token-facts troubleshooting">
                <dt>"Error code"</dt><dd><code class="error-code">{advice.code.clone()}</code></dd>
                <dt>"What happened"</dt>
                <dd>{advice.reason.clone()}{detail.event.error.clone().map(|e| format!(" The server said: “{e}”"))}</dd>
                <dt>"What to do"</dt><dd class="advice">{advice.action.clone()}</dd>
                {advice.existing_user_id.map(|id| view! {
                    <dt>"Existing user"</dt>
                    <dd>
                        <a class="existing-user" href=format!("/users/{id}")>
                            {advice.existing_user_email.clone().unwrap_or_else(|| "Open the user it clashed with".to_owned())}
                        </a>
                    </dd>
                })}
            </dl>
        }.into_any(),
    }
}

fn properties(changes: &[PropertyChange]) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="hint">"No properties were modified."</p> }.into_any();
    }
    let shown = |value: &serde_json::Value| match value {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    view! {
        <table class="history-table modified-properties">
            <thead><tr><th scope="col">"Property"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
            <tbody>
                {changes.iter().map(|c| view! {
                    <tr data-property=c.property.clone()>
                        <th scope="row">{c.property.clone()}</th>
                        <td>{shown(&c.before)}</td>
                        <td>{shown(&c.after)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn summary(detail: &EventDetail) -> impl IntoView {
    let event = &detail.event;
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_owned());
    let fact = |label: &'static str, value: String| view! { <dt>{label}</dt><dd>{value}</dd> };
    view! {
        <dl class="token-facts event-summary">
            {fact("Date", format::utc_and_local(event.at))}
            {fact("Customer", event.customer_name.clone())}
            {fact("Source system", event.source_system.clone())}
            {fact("Identity provider", or_dash(&detail.identity_provider))}
            {fact("Token", or_dash(&detail.token_name))}
            {fact("Source ID (identity provider)", or_dash(&event.source_id))}
            {fact("Target ID (Provisio SCIM id)", or_dash(&event.target_id))}
            {fact("Change ID (X-Request-Id)", or_dash(&event.request_id))}
            {fact("Client address", or_dash(&detail.client_address))}
            {fact("Answered", detail.http_status.map_or_else(|| "—".to_owned(), |s| format!("HTTP {s}")))}
            {fact("Duration", event.duration_ms.map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms")))}
            {fact("Operation", event.action.clone())}
            {detail.user_id.map(|id| view! {
                <dt>"User"</dt><dd><a href=format!("/users/{id}")>"Open the user's page"</a></dd>
            })}
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::Tab;

    #[test]
    fn arrow_keys_wrap_around_the_tabs() {
        assert_eq!(Tab::Steps.step(-1), Tab::Summary);
        assert_eq!(Tab::Summary.step(1), Tab::Steps);
        assert_eq!(Tab::Troubleshooting.step(1), Tab::Properties);
    }
}
