use crate::api::accounts::Login;
use crate::components::{action_error, FormError};
use leptos::prelude::*;
use leptos_meta::Title;

/// The sign-in form. `?next=` (set by the server when a signed-out visitor asked for a page)
/// goes along with the form, so the visitor lands on that page once signed in.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = leptos_router::hooks::use_query_map();
    let next =
        move || query.with_untracked(|q| q.get("next")).filter(|n| crate::model::safe_next(n).is_some());
    view! {
        <Title text="Sign in · Strongroom"/>
        <section class="auth-card">
            <h1>"Sign in to Strongroom"</h1>
            <ActionForm action=login attr:data-testid="login-form">
                {next().map(|next| view! { <input type="hidden" name="next" value=next/> })}
                <label for="login-email">"Email"</label>
                <input id="login-email" name="email" type="email" required autocomplete="username"/>
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" required
                    autocomplete="current-password"/>
                <button type="submit" class="primary">"Sign in"</button>
            </ActionForm>
            <FormError message=action_error(login)/>
        </section>
    }
}
