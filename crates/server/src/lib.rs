//! The Provisio REST API server: `app(state)` is the whole HTTP surface, used by `main` and tests.

pub mod auth;
pub mod cursor;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod export;
pub mod http;
pub mod metrics;
pub mod placement;
pub mod principal;
pub mod provisioning_health;
pub mod provisioning_watch;
pub mod reevaluation;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

pub use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: db::Pool,
    pub throttle: Arc<auth::throttle::SignInThrottle>,
    /// Each SCIM token's request budget.
    pub scim_rate: Arc<auth::scim_rate::ScimRateLimit>,
    /// Sends subscription deliveries; None where mail is not set up ("Send now" answers 503).
    pub deliverer: Option<delivery::Deliverer>,
    /// Mark the session cookie Secure: set when clients reach the server over TLS.
    pub secure_cookies: bool,
    /// Customers' users decoded for the mapping editor's previews.
    pub populations: Arc<db::mappings::PopulationCache>,
}

impl AppState {
    pub fn new(pool: impl Into<db::Pool>) -> AppState {
        AppState {
            pool: pool.into(),
            throttle: Arc::default(),
            scim_rate: Arc::default(),
            deliverer: None,
            secure_cookies: false,
            populations: Arc::default(),
        }
    }
}

/// Options that shape the router but are not state.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// The built web app (trunk's `dist`); served with `index.html` for every unknown path.
    pub static_dir: Option<PathBuf>,
}

/// The whole HTTP application.
pub fn app(state: AppState, options: &AppOptions) -> Router {
    http::router(state, options)
}
