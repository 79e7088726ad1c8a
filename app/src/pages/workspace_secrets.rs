use super::workspace::WorkspaceResource;
use crate::components::SecretsManager;
use leptos::prelude::*;

/// The workspace's pipeline secrets: names and dates for every role; add, update and delete for
/// owner, admin and maintain.
#[component]
pub fn WorkspaceSecretsTab() -> impl IntoView {
    let ws = expect_context::<WorkspaceResource>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                ws.await.ok().map(|ws| view! {
                    <div data-testid="secrets-tab">
                        <SecretsManager workspace_id=ws.workspace.id can_write=ws.grants.write_secrets/>
                    </div>
                })
            })}
        </Suspense>
    }
}
