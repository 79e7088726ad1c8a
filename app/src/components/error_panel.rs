//! How errors show: a page-level panel, and an inline line under a form.

use crate::error::AppError;
use leptos::prelude::*;

/// Shows an error as a page-level panel. Rendered on the server, it also sets the response's
/// status (404, 403, 500…), so a missing workspace is a real 404 and not a 200 with an apology.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
        }
    }
    let title = match &error {
        AppError::NotFound(_) => "Not found",
        AppError::Forbidden(_) => "Not allowed",
        AppError::Unauthenticated => "Signed out",
        AppError::RateLimited { .. } => "Slow down",
        AppError::BadRequest(_) | AppError::Conflict(_) => "That did not work",
        AppError::Internal | AppError::Transport(_) => "Something went wrong",
    };
    view! {
        <section class="panel panel-error" role="alert" data-testid="error-panel">
            <h2>{title}</h2>
            <p>{error.to_string()}</p>
            <p><a href="/">"Back to your workspaces"</a></p>
        </section>
    }
}

/// The error message of an action's last result, for `FormError`.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<String>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()).map(|e| e.to_string()))
}

/// An inline error line under a form, for the result of an action.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })
}
