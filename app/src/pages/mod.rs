//! One file per screen.

pub mod account;
pub mod admin_users;
pub mod audit;
pub mod cluster_credentials;
pub mod home;
pub mod identities;
pub mod launch;
pub mod login;
pub mod members;
pub mod not_found;
pub mod run_detail;
pub mod runs;
pub mod setup;
pub mod tokens;
pub mod workspace;
pub mod workspace_compute;
pub mod workspace_secrets;
pub mod your_secrets;

use leptos::prelude::*;

/// Feedback on a new password and its confirmation, from the rule the server applies.
pub(crate) fn new_password_hint(password: &str, confirm: &str) -> Option<String> {
    (!password.is_empty())
        .then(|| crate::model::check_password(password).err())
        .flatten()
        .or_else(|| (!confirm.is_empty() && confirm != password).then(|| "The passwords differ.".to_string()))
}

/// A path parameter as an id; 0 (which matches nothing) when missing or malformed.
///
/// Read tracked where something listens (a resource's source, a view's closure), so the page
/// follows a navigation; untracked elsewhere (a component's body, an async block), where a tracked
/// read only earns Leptos' "outside a reactive tracking context" warning.
pub(crate) fn id_param(name: &'static str) -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        let id =
            |map: &leptos_router::params::ParamsMap| map.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
        if leptos::reactive::graph::Observer::get().is_some() {
            params.with(id)
        } else {
            params.with_untracked(id)
        }
    }
}
