use crate::api::workspaces::{list_orgs, list_workspaces, CreateOrg, CreateWorkspace};
use crate::components::{action_error, ErrorPanel, FormError, RoleBadge};
use crate::error::AppError;
use crate::model::{check_full_name, check_resource_name, OrgSummary, WorkspaceSummary};
use leptos::prelude::*;
use leptos_meta::Title;

/// Organizations and the caller's workspaces in each.
#[component]
pub fn HomePage() -> impl IntoView {
    let create_org = ServerAction::<CreateOrg>::new();
    let create_ws = ServerAction::<CreateWorkspace>::new();
    let orgs = Resource::new(
        move || (create_org.version().get(), create_ws.version().get()),
        |_| async move {
            let mut out = Vec::new();
            for org in list_orgs().await? {
                let workspaces = list_workspaces(org.id).await?;
                out.push((org, workspaces));
            }
            Ok::<_, AppError>(out)
        },
    );
    view! {
        <Title text="Home · Strongroom"/>
        <div class="page">
            <h1>"Organizations and workspaces"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match orgs.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" data-testid="no-orgs">
                                "You are not in any workspace yet. Create an organization below, or ask a \
                                 workspace admin to add you."
                            </p>
                        }.into_any(),
                        Ok(list) => list
                            .into_iter()
                            .map(|(org, workspaces)| view! { <OrgCard org workspaces create_ws/> })
                            .collect_view()
                            .into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Transition>
            <NewOrgForm action=create_org/>
        </div>
    }
}

#[component]
fn OrgCard(
    org: OrgSummary,
    workspaces: Vec<WorkspaceSummary>,
    create_ws: ServerAction<CreateWorkspace>,
) -> impl IntoView {
    let org_id = org.id;
    view! {
        <section class="card" data-testid="org-card">
            <header class="card-header">
                <div>
                    <h2>{org.full_name.clone()}</h2>
                    <p class="muted mono">{org.name.clone()}</p>
                </div>
                {org.is_owner.then(|| view! { <span class="badge">"organization owner"</span> })}
            </header>
            {if workspaces.is_empty() {
                view! { <p class="muted">"No workspaces you take part in."</p> }.into_any()
            } else {
                view! {
                    <ul class="workspace-list">
                        {workspaces
                            .into_iter()
                            .map(|ws| {
                                let href = format!("/orgs/{}/workspaces/{}/secrets", ws.org_id, ws.id);
                                view! {
                                    <li>
                                        <a href=href data-testid="workspace-link">{ws.full_name.clone()}</a>
                                        <span class="muted mono">" " {ws.name.clone()}</span>
                                        {ws.role.map(|role| view! { <RoleBadge role/> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }.into_any()
            }}
            {org.is_owner.then(|| view! { <NewWorkspaceForm org_id action=create_ws/> })}
        </section>
    }
}

/// Live feedback from the same rules the server applies.
fn name_feedback(
    what: &'static str,
    name: RwSignal<String>,
    full: RwSignal<String>,
) -> impl Fn() -> Option<String> + Copy {
    move || {
        let (name, full) = (name.get(), full.get());
        let name_error = (!name.is_empty()).then(|| check_resource_name(what, &name).err()).flatten();
        name_error.or_else(|| (!full.is_empty()).then(|| check_full_name(what, &full).err()).flatten())
    }
}

#[component]
fn NewOrgForm(action: ServerAction<CreateOrg>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let full = RwSignal::new(String::new());
    let feedback = name_feedback("organization", name, full);
    view! {
        <section class="card">
            <h2>"New organization"</h2>
            <ActionForm action attr:data-testid="new-org-form" attr:class="inline-form">
                <div class="field">
                    <label for="org-name">"Name"</label>
                    <input id="org-name" name="name" required placeholder="genomics-lab"
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="org-full-name">"Full name"</label>
                    <input id="org-full-name" name="full_name" required placeholder="Genomics Lab"
                        on:input=move |ev| full.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="org-description">"Description"</label>
                    <input id="org-description" name="description"/>
                </div>
                <button type="submit" class="primary" disabled=move || feedback().is_some()>
                    "Create organization"
                </button>
            </ActionForm>
            <p class="hint" data-testid="org-name-hint">{feedback}</p>
            <FormError message=action_error(action)/>
        </section>
    }
}

#[component]
fn NewWorkspaceForm(org_id: i64, action: ServerAction<CreateWorkspace>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let full = RwSignal::new(String::new());
    let feedback = name_feedback("workspace", name, full);
    view! {
        <details class="new-workspace">
            <summary>"New workspace"</summary>
            <ActionForm action attr:data-testid="new-workspace-form" attr:class="inline-form">
                <input type="hidden" name="org_id" value=org_id/>
                <div class="field">
                    <label for=format!("ws-name-{org_id}")>"Name"</label>
                    <input id=format!("ws-name-{org_id}") name="name" required placeholder="rnaseq"
                        data-testid="workspace-name" on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for=format!("ws-full-{org_id}")>"Full name"</label>
                    <input id=format!("ws-full-{org_id}") name="full_name" required
                        placeholder="RNA-seq production"
                        on:input=move |ev| full.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for=format!("ws-desc-{org_id}")>"Description"</label>
                    <input id=format!("ws-desc-{org_id}") name="description"/>
                </div>
                <button type="submit" class="primary" disabled=move || feedback().is_some()>
                    "Create workspace"
                </button>
            </ActionForm>
            <p class="hint" data-testid="workspace-name-hint">{feedback}</p>
            <FormError message=action_error(action)/>
        </details>
    }
}
