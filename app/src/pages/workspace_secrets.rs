use super::workspace::WorkspaceResource;
use leptos::prelude::*;

/// The workspace's pipeline secrets (names and dates only; values are write-only).
#[component]
pub fn WorkspaceSecretsTab() -> impl IntoView {
    let ws = expect_context::<WorkspaceResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                ws.await.ok().map(|ws| view! {
                    <section class="card" data-testid="secrets-tab">
                        <header class="card-header">
                            <h2>"Pipeline secrets"</h2>
                            {ws.grants.write_secrets.then(|| view! {
                                <button type="button" class="primary" disabled>"Add Pipeline Secret"</button>
                            })}
                        </header>
                        <p class="empty">
                            "Pipeline secrets will be listed here: name, created, last updated, last used. "
                            "Values are write-only: once saved, nobody can read them back."
                        </p>
                        {ws.grants.write_secrets.then(|| view! {
                            <p class="muted">"Adding secrets from this page is not enabled yet; use the REST API (/api/pipeline-secrets)."</p>
                        })}
                    </section>
                })
            })}
        </Suspense>
    }
}
