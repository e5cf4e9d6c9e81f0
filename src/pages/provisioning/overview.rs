//! Provisioning status (`/provisioning`): every customer's provisioning state at a glance,
//! worst first, filterable, each linking into its log.

use leptos::prelude::*;
use provisio_api::provisioning::{EventStatus, ProvisioningStatus};

use super::{customer_logs_href, state_tone};
use crate::api;
use crate::components::states::{ErrorState, LoadingState};
use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    WorstFirst,
    Name,
    MostFailures,
    LastRequest,
}

impl Order {
    const ALL: [Order; 4] = [
        Order::WorstFirst,
        Order::Name,
        Order::MostFailures,
        Order::LastRequest,
    ];

    fn key(self) -> &'static str {
        match self {
            Order::WorstFirst => "state",
            Order::Name => "name",
            Order::MostFailures => "failures",
            Order::LastRequest => "last",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Order::WorstFirst => "Needs attention first",
            Order::Name => "Customer name",
            Order::MostFailures => "Most failures (24 h)",
            Order::LastRequest => "Latest request",
        }
    }
}

/// The statuses an overview shows, in its order.
fn arranged(
    mut all: Vec<ProvisioningStatus>,
    order: Order,
    attention_only: bool,
    search: &str,
) -> Vec<ProvisioningStatus> {
    let search = search.trim().to_lowercase();
    all.retain(|s| {
        (!attention_only || s.state.needs_attention())
            && (search.is_empty() || s.customer_name.to_lowercase().contains(&search))
    });
    match order {
        Order::WorstFirst => all.sort_by(|a, b| {
            b.state
                .cmp(&a.state)
                .then(b.failures_24h.cmp(&a.failures_24h))
        }),
        Order::Name => all.sort_by_key(|s| s.customer_name.to_lowercase()),
        Order::MostFailures => all.sort_by_key(|s| std::cmp::Reverse(s.failures_24h)),
        Order::LastRequest => all.sort_by_key(|s| std::cmp::Reverse(s.last_request_at)),
    }
    all
}

#[component]
pub fn ProvisioningOverviewPage() -> impl IntoView {
    let statuses = LocalResource::new(|| api::provisioning_status(None));
    let order = RwSignal::new(Order::WorstFirst);
    let attention_only = RwSignal::new(false);
    let search = RwSignal::new(String::new());
    view! {
        <section class="page overview-page">
            <header class="page-header">
                <div>
                    <h1>"Provisioning status"</h1>
                    <p class="subtitle">"Each customer's provisioning health: the first place to look when users do not arrive."</p>
                </div>
                <button type="button" class="button secondary" on:click=move |_| statuses.refetch()>"Refresh"</button>
            </header>
            <div class="toolbar overview-filters">
                <label class="search">
                    <span class="visually-hidden">"Find a customer"</span>
                    <input type="search" name="customer-search" placeholder="Find a customer" bind:value=search />
                </label>
                <label class="check">
                    <input type="checkbox" name="attention" bind:checked=attention_only />
                    <span>"Only customers that need attention"</span>
                </label>
                <label class="inline-field">
                    <span>"Sort by"</span>
                    <select name="order" on:change=move |event| {
                        let key = event_target_value(&event);
                        order.set(Order::ALL.into_iter().find(|o| o.key() == key).unwrap_or(Order::WorstFirst));
                    }>
                        {Order::ALL.into_iter().map(|o| view! {
                            <option value=o.key() selected=move || order.get() == o>{o.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <LoadingState message="Checking every customer…" /> }>
                {move || Suspend::new(async move {
                    match statuses.await {
                        Ok(all) => {
                            let shown = Memo::new(move |_| arranged(all.clone(), order.get(), attention_only.get(), &search.get()));
                            view! { <StatusTable shown /> }.into_any()
                        }
                        Err(failure) => view! {
                            <ErrorState title="Provisioning status could not be loaded" message=failure.message
                                on_retry=Callback::new(move |()| statuses.refetch()) />
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StatusTable(shown: Memo<Vec<ProvisioningStatus>>) -> impl IntoView {
    let count = |n: u64| format::thousands(n as i64);
    view! {
        <Show when=move || !shown.with(Vec::is_empty) fallback=|| view! {
            <div class="state empty-state">
                <h2>"No customer matches"</h2>
                <p>"Clear the search or show every customer."</p>
            </div>
        }>
            <div class="table-frame">
                <table class="data-table status-table" aria-label="Provisioning status by customer">
                    <thead>
                        <tr>
                            <th scope="col">"Customer"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Why"</th>
                            <th scope="col">"SCIM users"</th>
                            <th scope="col">"Last request (UTC)"</th>
                            <th scope="col">"Changes 24 h"</th>
                            <th scope="col">"Failures 24 h"</th>
                            <th scope="col">"Failures 7 d"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || shown.get() key=|s| (s.customer_id, s.state, s.failures_24h, s.changes_24h) children=move |s| {
                            let attention = s.state.needs_attention();
                            view! {
                                <tr class="row" data-customer=s.customer_id data-state=s.state.key() class:attention=attention>
                                    <td><a href=customer_logs_href(s.customer_id, None)>{s.customer_name.clone()}</a></td>
                                    <td><span class=format!("status-pill {}", state_tone(s.state))>{s.state.label()}</span></td>
                                    <td class="reason" title=s.reason.clone()>{s.reason.clone()}</td>
                                    <td class="numeric">{count(s.scim_users)}</td>
                                    <td>{s.last_request_at.map_or_else(|| "Never".to_owned(), format::utc)}</td>
                                    <td class="numeric">{count(s.changes_24h)}</td>
                                    <td class="numeric">
                                        {if s.failures_24h > 0 {
                                            view! { <a href=customer_logs_href(s.customer_id, Some(EventStatus::Failure))>{count(s.failures_24h)}</a> }.into_any()
                                        } else { "0".into_any() }}
                                    </td>
                                    <td class="numeric">{count(s.failures_7d)}</td>
                                </tr>
                            }
                        } />
                    </tbody>
                </table>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisio_api::provisioning::ProvisioningState;

    fn status(name: &str, state: ProvisioningState, failures: u64) -> ProvisioningStatus {
        ProvisioningStatus {
            customer_id: 1,
            customer_name: name.to_owned(),
            state,
            reason: String::new(),
            scim_users: 0,
            scim_groups: 0,
            last_request_at: None,
            token_expires_at: None,
            changes_24h: 0,
            failures_24h: failures,
            changes_7d: 0,
            failures_7d: 0,
            hourly: vec![],
        }
    }

    #[test]
    fn the_worst_come_first_and_the_filter_keeps_those_needing_attention() {
        let all = vec![
            status("Healthy Co", ProvisioningState::Healthy, 0),
            status("Failing Co", ProvisioningState::Failing, 30),
            status("Expiring Co", ProvisioningState::TokenExpiring, 0),
        ];
        let names = |list: Vec<ProvisioningStatus>| {
            list.into_iter()
                .map(|s| s.customer_name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(arranged(all.clone(), Order::WorstFirst, false, "")),
            ["Failing Co", "Expiring Co", "Healthy Co"]
        );
        assert_eq!(
            names(arranged(all.clone(), Order::WorstFirst, true, "")),
            ["Failing Co", "Expiring Co"]
        );
        assert_eq!(
            names(arranged(all, Order::Name, false, "co")),
            ["Expiring Co", "Failing Co", "Healthy Co"]
        );
    }
}
