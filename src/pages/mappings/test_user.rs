//! "Test a user": which mapping places a user, why, and where they land.

use leptos::prelude::*;
use provisio_api::mapping::MappingExplanation;

use crate::api;
use crate::format::thousands;

#[component]
pub fn TestUser(customer_id: i64) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let explain = Action::new_local(move |email: &String| {
        let email = email.trim().to_owned();
        async move { api::explain_mapping(customer_id, &email).await }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !email.get_untracked().trim().is_empty() {
            explain.dispatch(email.get_untracked());
        }
    };
    view! {
        <section class="panel test-user" aria-labelledby="test-user-title">
            <h2 id="test-user-title" class="panel-title">"Test a user"</h2>
            <form class="inline-field" on:submit=submit>
                <label class="visually-hidden" for="test-user-email">"User's email"</label>
                <input id="test-user-email" type="email" name="test-email" placeholder="user@example.com" bind:value=email />
                <button type="submit" class="button secondary" disabled=move || explain.pending().get()>"Explain"</button>
            </form>
            <div aria-live="polite">
                {move || explain.value().get().map(|answer| match answer {
                    Ok(explanation) => view! { <Explanation explanation /> }.into_any(),
                    Err(failure) => view! { <p class="form-error" role="alert">{failure.message}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn Explanation(explanation: MappingExplanation) -> impl IntoView {
    let placement = explanation.placement;
    let lands = match (&placement.profile_name, &placement.storage_region_name) {
        (Some(profile), Some(region)) => {
            let quota = placement
                .quota_gb
                .map(|gb| format!("{} GB", thousands(gb)))
                .unwrap_or_else(|| "unlimited quota".to_owned());
            format!("{profile} · {region} · {quota}")
        }
        _ => String::new(),
    };
    view! {
        <p class="explanation-verdict">
            <strong>{explanation.email}</strong>": "{placement.reason}
        </p>
        <p class="explanation-lands">{lands}</p>
        <ol class="verdicts">
            {explanation.verdicts.into_iter().map(|v| view! {
                <li class:matched=v.matched>
                    <span class="verdict-name">{v.name}</span>
                    {if v.matched { " — matches: " } else { " — no: " }}
                    {v.because}
                </li>
            }).collect_view()}
        </ol>
    }
}
