//! A subscription's deliveries, newest first.

use leptos::prelude::*;
use provisio_api::subscription::Delivery;

use crate::api::ApiFailure;
use crate::format;

#[component]
pub fn DeliveryHistory(
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
