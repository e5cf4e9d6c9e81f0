//! The sign-in page: the only page reachable without a session.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use provisio_api::report::decode_pairs;

use crate::api;
use crate::session::{Session, SessionState};

#[component]
pub fn SignInPage() -> impl IntoView {
    let session = Session::expect();
    let location = use_location();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    // Only a path on this site: an absolute or protocol-relative `next` could send the admin away.
    let next = move || {
        decode_pairs(location.search.get_untracked().trim_start_matches('?'))
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "next").map(|(_, v)| v))
            .filter(|next| next.starts_with('/') && !next.starts_with("//"))
            .unwrap_or_else(|| "/".to_owned())
    };

    let sign_in = Action::new_local(|(email, password): &(String, String)| {
        api::sign_in(email.clone(), password.clone())
    });
    let busy = sign_in.pending();
    Effect::new(move |_| match sign_in.value().get() {
        Some(Ok(me)) => {
            session.0.set(SessionState::SignedIn(me));
            navigate(&next(), Default::default());
        }
        Some(Err(failure)) => {
            password.set(String::new());
            error.set(Some(failure.message));
        }
        None => {}
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (email_text, password_text) = (email.get_untracked(), password.get_untracked());
        if email_text.trim().is_empty() || password_text.is_empty() {
            error.set(Some("Enter your email and password.".to_owned()));
            return;
        }
        error.set(None);
        sign_in.dispatch((email_text, password_text));
    };

    view! {
        <main class="sign-in-page" id="main">
            <form class="sign-in-card" on:submit=submit novalidate>
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"P"</span>
                    <span class="brand-name dark">"Provisio"</span>
                </div>
                <h1>"Sign in"</h1>
                <p class="subtitle">"User provisioning for MSPs and their customers."</p>
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" name="email" autocomplete="username" required bind:value=email />
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input type="password" name="password" autocomplete="current-password" required bind:value=password />
                </label>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                </Show>
                <button type="submit" class="button primary wide" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
