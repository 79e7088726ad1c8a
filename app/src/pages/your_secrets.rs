use leptos::prelude::*;

/// The signed-in user's own secrets.
#[component]
pub fn YourSecretsPage() -> impl IntoView {
    view! {
        <div class="page">
            <h1>"Your secrets"</h1>
            <section class="card" data-testid="your-secrets">
                <p>
                    "Your secrets belong to you alone: no workspace role reaches them, not even owner. "
                    "When one has the same name as a secret of a workspace you launch in, your value wins for your own launches."
                </p>
                <p class="empty">"Managing your secrets from this page is not enabled yet; use the REST API (/api/pipeline-secrets without workspaceId)."</p>
            </section>
        </div>
    }
}
