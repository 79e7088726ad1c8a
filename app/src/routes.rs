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
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

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
                    <Route path=path!("/setup") view={Lazy::<SetupPageRoute>::new()}/>
                    <Route path=path!("/login") view={Lazy::<LoginPageRoute>::new()}/>
                    <Route path=path!("/") view={Lazy::<HomePageRoute>::new()} ssr=SsrMode::Async/>
                    <ParentRoute path=path!("/orgs/:org_id/workspaces/:workspace_id") view=WorkspaceLayout
                        ssr=SsrMode::Async>
                        <Route path=path!("") view={Lazy::<WorkspaceSecretsTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("secrets") view={Lazy::<WorkspaceSecretsTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("members") view={Lazy::<MembersTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("compute") view={Lazy::<WorkspaceComputeTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("settings") view={Lazy::<SettingsTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("audit") view={Lazy::<WorkspaceAuditTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("runs") view={Lazy::<RunsTabRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("runs/:workflow_id") view={Lazy::<RunPageRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("launch") view={Lazy::<LaunchPageRoute>::new()} ssr=SsrMode::Async/>
                    </ParentRoute>
                    <Route path=path!("/user/secrets") view={Lazy::<YourSecretsPageRoute>::new()}/>
                    <Route path=path!("/user/tokens") view={Lazy::<TokensPageRoute>::new()}/>
                    // `model::CLUSTER_CREDENTIALS_PAGE`: the launch's refusal points here.
                    <Route path=path!("/user/cluster-credentials") view={Lazy::<ClusterCredentialsPageRoute>::new()}/>
                    <Route path=path!("/identities") view={Lazy::<IdentitiesPageRoute>::new()}/>
                    <Route path=path!("/account") view={Lazy::<AccountPageRoute>::new()}/>
                    <Route path=path!("/admin/users") view={Lazy::<AdminUsersPageRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view={Lazy::<InstanceAuditPageRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Gives a page a lazily loaded route: in the browser its code is a WASM chunk of its own
/// (`cargo xtask site` splits it out), fetched when the page is first shown or, for
/// the page a visit starts on, preloaded beside the main WASM. So a first visit downloads what
/// every page shares and that page's own code, not the code of all the others.
macro_rules! lazy_page {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_page! {
    SetupPageRoute => SetupPage,
    LoginPageRoute => LoginPage,
    HomePageRoute => HomePage,
    WorkspaceSecretsTabRoute => WorkspaceSecretsTab,
    MembersTabRoute => MembersTab,
    WorkspaceComputeTabRoute => WorkspaceComputeTab,
    SettingsTabRoute => SettingsTab,
    WorkspaceAuditTabRoute => WorkspaceAuditTab,
    RunsTabRoute => RunsTab,
    RunPageRoute => RunPage,
    LaunchPageRoute => LaunchPage,
    YourSecretsPageRoute => YourSecretsPage,
    TokensPageRoute => TokensPage,
    ClusterCredentialsPageRoute => ClusterCredentialsPage,
    IdentitiesPageRoute => IdentitiesPage,
    AccountPageRoute => AccountPage,
    AdminUsersPageRoute => AdminUsersPage,
    InstanceAuditPageRoute => InstanceAuditPage,
}
