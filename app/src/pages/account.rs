use crate::api::accounts::ChangePassword;
use crate::components::{action_error, FormError};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let new_password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let hint = move || super::new_password_hint(&new_password.get(), &confirm.get());
    let done = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <Title text="Account · Strongroom"/>
        <div class="page">
            <h1>"Account"</h1>
            <section class="card narrow">
                <h2>"Change password"</h2>
                <p class="muted">"Your other sessions end when the password changes."</p>
                <ActionForm action=change attr:data-testid="change-password-form">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current_password" type="password" required
                        autocomplete="current-password"/>
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new_password" type="password" required minlength="8"
                        autocomplete="new-password"
                        on:input=move |ev| new_password.set(event_target_value(&ev))/>
                    <label for="confirm-password">"Confirm new password"</label>
                    <input id="confirm-password" type="password" required autocomplete="new-password"
                        on:input=move |ev| confirm.set(event_target_value(&ev))/>
                    <p class="hint">{hint}</p>
                    <button type="submit" class="primary" disabled=move || hint().is_some()>
                        "Change password"
                    </button>
                </ActionForm>
                {move || done().then(|| view! {
                    <p class="form-success" role="status">"Password changed."</p>
                })}
                <FormError message=action_error(change)/>
            </section>
        </div>
    }
}
