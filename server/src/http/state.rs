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

#[derive(Clone)]
pub struct AppState {
    /// The domain's services, for what is not a port: the middleware's session and token checks,
    /// the health check, the background jobs.
    pub domain: Domain,
    /// What the server functions and the REST handlers call (`app::ports`).
    pub ports: Ports,
    pub metrics: Arc<Metrics>,
    pub leptos_options: LeptosOptions,
    /// Trusted proxies and the cross-site check (`http::middleware`).
    pub request_guard: Arc<RequestGuard>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
