use crate::components::SecretsManager;
use leptos::prelude::*;
use leptos_meta::Title;

/// The signed-in user's own secrets.
#[component]
pub fn YourSecretsPage() -> impl IntoView {
    view! {
        <Title text="Your secrets · Strongroom"/>
        <div class="page" data-testid="your-secrets">
            <h1>"Your secrets"</h1>
            <p class="muted">
                "Your secrets belong to you alone: no workspace role reaches them, not even owner. "
                "When one has the same name as a secret of a workspace you launch in, your value wins for \
                 your own launches."
            </p>
            <SecretsManager workspace_id=0 workspace=None/>
        </div>
    }
}
