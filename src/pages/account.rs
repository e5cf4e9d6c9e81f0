//! The Account page: the signed-in admin's details and password change.

use leptos::prelude::*;
use provisio_api::auth::MIN_PASSWORD_CHARS;

use crate::api;
use crate::session::Session;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = Session::expect();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let change = Action::new_local(|(current, new): &(String, String)| {
        let (current, new) = (current.clone(), new.clone());
        async move { api::change_password(current, new).await }
    });
    Effect::new(move |_| match change.value().get() {
        // Every session of this admin ended, this one too: sign in with the new password.
        Some(Ok(())) => session.ended(),
        Some(Err(failure)) => error.set(Some(failure.message)),
        None => {}
    });
    let busy = change.pending();

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (current_text, new_text) = (current.get_untracked(), new.get_untracked());
        if new_text != repeat.get_untracked() {
            error.set(Some("The new passwords do not match.".to_owned()));
            return;
        }
        if new_text.chars().count() < MIN_PASSWORD_CHARS {
            error.set(Some(format!(
                "Use at least {MIN_PASSWORD_CHARS} characters."
            )));
            return;
        }
        error.set(None);
        change.dispatch((current_text, new_text));
    };

    view! {
        <section class="page account-page">
            <header class="page-header">
                <div>
                    <h1>"Account"</h1>
                    <p class="subtitle">
                        {move || session.me().map(|me| format!("{} · {} · {}", me.display_name, me.email, me.role.label()))}
                    </p>
                </div>
            </header>
            <form class="panel change-password" on:submit=submit aria-label="Change password">
                <h2>"Change password"</h2>
                <p class="hint">"Changing it signs you out everywhere, this browser included."</p>
                <div class="form-grid">
                    <label class="field">
                        <span>"Current password"</span>
                        <input type="password" name="current" autocomplete="current-password" required bind:value=current />
                    </label>
                    <label class="field">
                        <span>"New password (12+ characters)"</span>
                        <input type="password" name="new" autocomplete="new-password" required bind:value=new />
                    </label>
                    <label class="field">
                        <span>"Repeat the new password"</span>
                        <input type="password" name="repeat" autocomplete="new-password" required bind:value=repeat />
                    </label>
                </div>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                </Show>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || busy.get()>"Change password"</button>
                </div>
            </form>
        </section>
    }
}
