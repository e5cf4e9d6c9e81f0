//! The shell (side navigation and main area) and the routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::pages::not_found::NotFound;
use crate::pages::report::ReportPage;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
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
                    </ul>
                </nav>
                <main id="main" class="main" tabindex="-1">
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=ReportPage />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
