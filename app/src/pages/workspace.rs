use crate::api::workspaces::get_workspace_view;
use crate::components::{ErrorPanel, RoleBadge, WorkspaceResource};
use crate::model::{Permission, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

/// The workspace layout: header, tabs, and the selected tab below.
#[component]
pub fn WorkspaceLayout() -> impl IntoView {
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let view_resource: WorkspaceResource =
        Resource::new(move || (org_id(), workspace_id()), |(o, w)| get_workspace_view(o, w));
    provide_context(view_resource);
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_resource.await {
                    Ok(ws) => {
                        let base = format!("/orgs/{}/workspaces/{}", ws.org.id, ws.workspace.id);
                        let tab = move |name: &'static str, label: &'static str| {
                            let href = format!("{base}/{name}");
                            let current = href.clone();
                            let is_current = Memo::new(move |_| {
                                let path = location.pathname.get();
                                path == current
                                    || (name == "runs" && runs_path(&path))
                                    || (name == "secrets"
                                        && !runs_path(&path)
                                        && !["/members", "/compute", "/settings", "/audit"]
                                            .iter()
                                            .any(|t| path.ends_with(t)))
                            });
                            // `aria-current` tells screen readers which tab is the page shown.
                            view! {
                                <a href=href class="tab" class:active=move || is_current.get()
                                    aria-current=move || is_current.get().then_some("page")>
                                    {label}
                                </a>
                            }
                        };
                        view! {
                            <div class="page">
                                <header class="workspace-header">
                                    <p class="muted">{ws.org.full_name.clone()}</p>
                                    <h1 data-testid="workspace-title">{ws.workspace.full_name.clone()}</h1>
                                    <p>"Your role: " <RoleBadge role=ws.role/></p>
                                </header>
                                <nav class="tabs" aria-label="Workspace">
                                    {tab("secrets", "Secrets")}
                                    {tab("runs", "Runs")}
                                    {tab("members", "Members")}
                                    {tab("compute", "Compute")}
                                    {tab("settings", "Settings")}
                                    {ws.grants.manage_participants.then(|| tab("audit", "Audit"))}
                                </nav>
                                <Outlet/>
                            </div>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The Runs tab covers the run list, each run's page and the launch form.
fn runs_path(path: &str) -> bool {
    path.ends_with("/runs") || path.contains("/runs/") || path.ends_with("/launch")
}

#[component]
pub fn SettingsTab() -> impl IntoView {
    let ws = expect_context::<WorkspaceResource>();
    view! {
        <Title text="Settings · Strongroom"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                ws.await.ok().map(|ws| view! {
                    <section class="card">
                        <h2>"Workspace"</h2>
                        <dl class="facts">
                            <dt>"Name"</dt><dd class="mono">{ws.workspace.name.clone()}</dd>
                            <dt>"Full name"</dt><dd>{ws.workspace.full_name.clone()}</dd>
                            <dt>"Description"</dt><dd>{ws.workspace.description.clone()}</dd>
                            <dt>"Visibility"</dt><dd>{ws.workspace.visibility.clone()}</dd>
                            <dt>"Workspace id"</dt><dd class="mono">{ws.workspace.id}</dd>
                            <dt>"Your role"</dt><dd><RoleBadge role=ws.role/> " " {ws.role.describe()}</dd>
                        </dl>
                    </section>
                    <RoleTable/>
                })
            })}
        </Suspense>
    }
}

/// The six roles and what each may do, straight from the policy table.
#[component]
fn RoleTable() -> impl IntoView {
    let columns = [
        (Permission::ReadWorkspace, "See secret names and dates"),
        (Permission::WriteSecrets, "Create, update, delete secrets"),
        (Permission::LaunchWorkflow, "Launch workflows"),
        (Permission::ManageCompute, "Manage compute environments"),
        (Permission::ManageParticipants, "Manage participants"),
    ];
    view! {
        <section class="card">
            <h2>"Roles"</h2>
            <div class="table-scroll" tabindex="0">
                <table class="table" data-testid="role-table">
                    <thead>
                        <tr>
                            <th>"Role"</th>
                            {columns.iter().map(|(_, label)| view! { <th>{*label}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {Role::ALL.into_iter().map(|role| view! {
                            <tr>
                                <td><RoleBadge role/></td>
                                {columns.iter().map(|(perm, _)| {
                                    let yes = role.allows(*perm);
                                    let class = if yes { "yes" } else { "no" };
                                    let mark = if yes { "yes" } else { "—" };
                                    view! { <td class=class>{mark}</td> }
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
