use crate::components::{SecretsManager, WorkspaceResource};
use leptos::prelude::*;
use leptos_meta::Title;

/// The workspace's pipeline secrets: names and dates for every role; add, update and delete for
/// owner, admin and maintain.
#[component]
pub fn WorkspaceSecretsTab() -> impl IntoView {
    let workspace = expect_context::<WorkspaceResource>();
    let workspace_id = super::id_param("workspace_id");
    view! {
        <Title text="Secrets · Strongroom"/>
        <div data-testid="secrets-tab">
            <SecretsManager workspace_id=workspace_id() workspace=Some(workspace)/>
        </div>
    }
}
