use crate::api::accounts::Setup;
use crate::components::{action_error, FormError};
use crate::model::check_email;
use leptos::prelude::*;
use leptos_meta::Title;

/// First visit: create the instance administrator.
#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let hint = move || {
        let (email, password, confirm) = (email.get(), password.get(), confirm.get());
        if !email.is_empty() { check_email(&email).err() } else { None }
            .or_else(|| super::new_password_hint(&password, &confirm))
    };
    view! {
        <Title text="Set up · Strongroom"/>
        <section class="auth-card">
            <h1>"Welcome to Strongroom"</h1>
            <p class="muted">"Create the instance administrator. This account creates the other users."</p>
            <ActionForm action=setup attr:data-testid="setup-form">
                <label for="setup-email">"Email"</label>
                <input id="setup-email" name="email" type="email" required autocomplete="username"
                    on:input=move |ev| email.set(event_target_value(&ev))/>
                <label for="setup-name">"Display name"</label>
                <input id="setup-name" name="display_name" type="text" required autocomplete="name"/>
                <label for="setup-password">"Password"</label>
                <input id="setup-password" name="password" type="password" required minlength="8"
                    autocomplete="new-password" on:input=move |ev| password.set(event_target_value(&ev))/>
                <label for="setup-confirm">"Confirm password"</label>
                <input id="setup-confirm" type="password" required autocomplete="new-password"
                    on:input=move |ev| confirm.set(event_target_value(&ev))/>
                <p class="hint" data-testid="setup-hint">{hint}</p>
                <button type="submit" class="primary" disabled=move || hint().is_some()>
                    "Create administrator"
                </button>
            </ActionForm>
            <FormError message=action_error(setup)/>
        </section>
    }
}
