//! The designed states of a page's content: loading, and failed with a way to retry.

use leptos::prelude::*;

#[component]
pub fn LoadingState(message: &'static str) -> impl IntoView {
    view! {
        <div class="state loading-state" aria-busy="true">
            <div class="spinner" aria-hidden="true"></div>
            <p>{message}</p>
        </div>
    }
}

#[component]
pub fn ErrorState(title: &'static str, message: String, on_retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="state error-state" role="alert">
            <h2>{title}</h2>
            <p>{message}</p>
            <button type="button" class="button primary" on:click=move |_| on_retry.run(())>"Retry"</button>
        </div>
    }
}
