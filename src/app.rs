//! The shell (side navigation, the signed-in admin, main area) and the routes.

use leptos::prelude::*;
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use provisio_api::auth::Role;

use crate::api;
use crate::pages::account::AccountPage;
use crate::pages::admins::AdminsPage;
use crate::pages::mappings::MappingsPage;
use crate::pages::not_found::NotFound;
use crate::pages::provisioning::{ProvisioningLogsPage, ProvisioningOverviewPage};
use crate::pages::report::ReportPage;
use crate::pages::scim::ScimPage;
use crate::pages::sign_in::SignInPage;
use crate::pages::subscriptions::SubscriptionsPage;
use crate::pages::user::UserPage;
use crate::session::{Session, SessionState};

#[component]
pub fn App() -> impl IntoView {
    let session = Session::provide();
    api::on_session_ended(move || session.ended());
    // Who is signed in, asked once at start.
    let current = LocalResource::new(api::current_admin);
    Effect::new(move |_| {
        if let Some(answer) = current.get() {
            session.0.set(match answer {
                Ok(me) => SessionState::SignedIn(me),
                Err(_) => SessionState::SignedOut,
            });
        }
    });
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("/") view=ReportPage />
                    <Route path=path!("/subscriptions") view=SubscriptionsPage />
                    <Route path=path!("/scim") view=ScimPage />
                    <Route path=path!("/mappings") view=MappingsPage />
                    <Route path=path!("/provisioning") view=ProvisioningOverviewPage />
                    <Route path=path!("/provisioning/logs") view=ProvisioningLogsPage />
                    <Route path=path!("/users/:id") view=UserPage />
                    <Route path=path!("/admins") view=AdminsPage />
                    <Route path=path!("/account") view=AccountPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Everything behind sign-in: redirects to the sign-in page when there is no session.
#[component]
fn Shell() -> impl IntoView {
    let session = Session::expect();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.0.get() == SessionState::SignedOut {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                search_part(&location.search.get_untracked())
            );
            let next = provisio_api::report::encode_pairs(&[("next".to_owned(), here)]);
            navigate(&format!("/sign-in?{next}"), Default::default());
        }
    });
    let sign_out = Action::new_local(|()| async {
        // Signed out here either way: a failed request leaves a session that expires.
        let _ = api::sign_out().await;
    });
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.ended();
        }
    });
    let is_msp_admin = move || session.role() == Some(Role::MspAdmin);

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="shell">
            <nav class="sidebar" aria-label="Main">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"P"</span>
                    <span class="brand-name">"Provisio"</span>
                </div>
                <p class="nav-section">"Reports"</p>
                <ul class="nav-list">
                    <li>
                        <A href="/" exact=true>"User Provisioning"</A>
                    </li>
                    <li>
                        <A href="/subscriptions">"Subscriptions"</A>
                    </li>
                </ul>
                <p class="nav-section">"Provisioning"</p>
                <ul class="nav-list">
                    <li>
                        <A href="/scim">"SCIM provisioning"</A>
                    </li>
                    <li>
                        <A href="/mappings">"Mappings"</A>
                    </li>
                    <li>
                        <A href="/provisioning" exact=true>"Provisioning status"</A>
                    </li>
                    <li>
                        <A href="/provisioning/logs">"Provisioning logs"</A>
                    </li>
                </ul>
                <Show when=is_msp_admin>
                    <p class="nav-section">"Settings"</p>
                    <ul class="nav-list">
                        <li>
                            <A href="/admins">"Admins"</A>
                        </li>
                    </ul>
                </Show>
                <div class="whoami">
                    {move || session.me().map(|me| {
                        let scope = me.customer.as_ref().map(|c| format!(" · {}", c.name)).unwrap_or_default();
                        view! {
                            <p class="whoami-name">
                                <A href="/account" attr:title="Your account and password">{me.display_name.clone()}</A>
                            </p>
                            <p class="whoami-role">{format!("{}{scope}", me.role.label())}</p>
                        }
                    })}
                    <button type="button" class="button nav-button sign-out" on:click=move |_| {
                        sign_out.dispatch(());
                    }>
                        "Sign out"
                    </button>
                </div>
            </nav>
            <main id="main" class="main" tabindex="-1">
                {move || match session.0.get() {
                    SessionState::SignedIn(_) => view! { <Outlet /> }.into_any(),
                    _ => view! {
                        <div class="state loading-state" aria-busy="true">
                            <div class="spinner" aria-hidden="true"></div>
                            <p>"Checking your session…"</p>
                        </div>
                    }
                    .into_any(),
                }}
            </main>
        </div>
    }
}

fn search_part(search: &str) -> String {
    if search.is_empty() {
        String::new()
    } else {
        format!("?{}", search.trim_start_matches('?'))
    }
}
