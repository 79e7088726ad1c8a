//! The state every handler and middleware receives. It lives alone so that the router, the
//! middleware, the REST handlers and the operations endpoints all depend on it, and it on none of
//! them.

use crate::domain::Core;
use crate::http::middleware::RequestGuard;
use crate::http::ops::Metrics;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Core>,
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
