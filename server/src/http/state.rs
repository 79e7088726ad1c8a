//! The state every handler and middleware receives. It lives alone so that the router, the
//! middleware, the REST handlers and the operations endpoints all depend on it, and it on none of
//! them.

use crate::domain::Domain;
use crate::http::middleware::RequestGuard;
use crate::http::ops::Metrics;
use app::ports::Ports;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cloned by every middleware, extractor and handler of every request (axum's `State`), so it is
/// one reference count: cloning the parts themselves (dozens of `Arc`s and the Leptos options'
/// strings) took about 6% of a describe's CPU on SQLite.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

pub struct AppParts {
    /// The domain's services, for what is not a port: the middleware's session and token checks,
    /// the health check, the background jobs.
    pub domain: Domain,
    /// What the server functions and the REST handlers call (`app::ports`).
    pub ports: Ports,
    pub metrics: Metrics,
    pub leptos_options: LeptosOptions,
    /// Trusted proxies and the cross-site check (`http::middleware`).
    pub request_guard: RequestGuard,
}

impl AppState {
    pub fn new(parts: AppParts) -> AppState {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
