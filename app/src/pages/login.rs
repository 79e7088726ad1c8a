use crate::api::accounts::Login;
use crate::components::{action_error, FormError};
use leptos::prelude::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    view! {
        <section class="auth-card">
            <h1>"Sign in to Strongroom"</h1>
            <ActionForm action=login attr:data-testid="login-form">
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
