//! The audit trail: the workspace Audit tab (owners and admins) and the instance view (instance
//! administrators). Read-only; filtered and paged through the query string (`AuditQuery`).

use crate::api::audit::{get_instance_audit, get_workspace_audit};
use crate::components::{use_audit_query, AuditFilters, AuditQuery, AuditTable, ErrorPanel};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn WorkspaceAuditTab() -> impl IntoView {
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let query = use_audit_query();
    let page = Resource::new(
        move || (org_id(), workspace_id(), query.get()),
        |(o, w, query)| async move {
            let f = query.filter();
            get_workspace_audit(o, w, query.older_than, f.who, f.what, f.outcome, f.from, f.to).await
        },
    );
    view! {
        <Title text="Audit · Strongroom"/>
        <AuditView page query show_workspace=false/>
    }
}

#[component]
pub fn InstanceAuditPage() -> impl IntoView {
    let query = use_audit_query();
    let page = Resource::new(
        move || query.get(),
        |query| async move {
            let f = query.filter();
            get_instance_audit(query.older_than, f.who, f.what, f.outcome, f.from, f.to).await
        },
    );
    view! {
        <Title text="Audit log · Strongroom"/>
        <div class="page">
            <h1>"Audit log"</h1>
            <p class="muted">
                "Every sign-in, change and refusal on this instance, newest first. "
                "Run " <code>"strongroom audit verify"</code>
                " to check that no entry was altered or removed."
            </p>
            <AuditView page query show_workspace=true/>
        </div>
    }
}

/// The filters and the page of entries they select.
#[component]
fn AuditView(
    page: Resource<Result<crate::model::AuditPage, crate::error::AppError>>,
    query: Memo<AuditQuery>,
    show_workspace: bool,
) -> impl IntoView {
    view! {
        {move || view! { <AuditFilters query=query.get()/> }}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <AuditTable page query=query.get_untracked() show_workspace/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
