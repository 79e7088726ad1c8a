//! The HTML shell and the route table.

use crate::components::TopBar;
use crate::pages::{
    account::AccountPage,
    admin_users::AdminUsersPage,
    audit::{InstanceAuditPage, WorkspaceAuditTab},
    cluster_credentials::ClusterCredentialsPage,
    home::HomePage,
    identities::IdentitiesPage,
    launch::LaunchPage,
    login::LoginPage,
    members::MembersTab,
    not_found::NotFound,
    run_detail::RunPage,
    runs::RunsTab,
    setup::SetupPage,
    tokens::TokensPage,
    workspace::{SettingsTab, WorkspaceLayout},
    workspace_compute::WorkspaceComputeTab,
    workspace_secrets::WorkspaceSecretsTab,
    your_secrets::YourSecretsPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::security_policy::send_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                // The stylesheet's name carries its content hash (`cargo xtask site`), which
                // only the server knows: so it is linked here, not from `App`.
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Strongroom"/>
        <Router>
            <TopBar/>
            <main class="content">
                // Pages that load data render with SsrMode::Async, so their status code (404,
                // 403) is known before the first byte is sent.
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/setup") view=SetupPage/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <ParentRoute path=path!("/orgs/:org_id/workspaces/:workspace_id") view=WorkspaceLayout
                        ssr=SsrMode::Async>
                        <Route path=path!("") view=WorkspaceSecretsTab ssr=SsrMode::Async/>
                        <Route path=path!("secrets") view=WorkspaceSecretsTab ssr=SsrMode::Async/>
                        <Route path=path!("members") view=MembersTab ssr=SsrMode::Async/>
                        <Route path=path!("compute") view=WorkspaceComputeTab ssr=SsrMode::Async/>
                        <Route path=path!("settings") view=SettingsTab ssr=SsrMode::Async/>
                        <Route path=path!("audit") view=WorkspaceAuditTab ssr=SsrMode::Async/>
                        <Route path=path!("runs") view=RunsTab ssr=SsrMode::Async/>
                        <Route path=path!("runs/:workflow_id") view=RunPage ssr=SsrMode::Async/>
                        <Route path=path!("launch") view=LaunchPage ssr=SsrMode::Async/>
                    </ParentRoute>
                    <Route path=path!("/user/secrets") view=YourSecretsPage/>
                    <Route path=path!("/user/tokens") view=TokensPage/>
                    // `model::CLUSTER_CREDENTIALS_PAGE`: the launch's refusal points here.
                    <Route path=path!("/user/cluster-credentials") view=ClusterCredentialsPage/>
                    <Route path=path!("/identities") view=IdentitiesPage/>
                    <Route path=path!("/account") view=AccountPage/>
                    <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=InstanceAuditPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
