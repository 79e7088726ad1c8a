//! The audit trail: the workspace Audit tab (owners and admins) and the instance view (instance
//! administrators). Read-only; `?older_than=` pages back.

use crate::api::audit::{get_instance_audit, get_workspace_audit};
use crate::components::{AuditTable, ErrorPanel};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn older_than_param() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.read().get("older_than").and_then(|v| v.parse().ok())
}

#[component]
pub fn WorkspaceAuditTab() -> impl IntoView {
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let older_than = older_than_param();
    let page = Resource::new(
        move || (org_id(), workspace_id(), older_than()),
        |(o, w, before)| get_workspace_audit(o, w, before),
    );
    view! {
        <Title text="Audit · Strongroom"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <AuditTable page/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn InstanceAuditPage() -> impl IntoView {
    let older_than = older_than_param();
    let page = Resource::new(older_than, get_instance_audit);
    view! {
        <Title text="Audit log · Strongroom"/>
        <div class="page">
            <h1>"Audit log"</h1>
            <p class="muted">
                "Every sign-in, change and refusal on this instance, newest first. "
                "Run " <code>"strongroom audit verify"</code>
                " to check that no entry was altered or removed."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <AuditTable page show_workspace=true/> }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
