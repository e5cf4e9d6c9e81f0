//! The page for an address the app does not know.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. "<A href="/">"Open the User Provisioning report"</A>"."</p>
        </section>
    }
}
