use super::audit_filters::AuditQuery;
use crate::model::{format_timestamp, AuditEntry, AuditPage};
use leptos::prelude::*;

/// A page of audit entries, newest first, with links to the next older page and back to the
/// newest, both keeping the filter.
#[component]
pub fn AuditTable(
    page: AuditPage,
    query: AuditQuery,
    #[prop(optional)] show_workspace: bool,
) -> impl IntoView {
    let older = page.older_than.map(|seq| {
        view! {
            <a class="button secondary" href=query.href(Some(seq)) data-testid="audit-older">
                "Older entries"
            </a>
        }
    });
    let newest = query.older_than.is_some().then(|| {
        view! {
            <a class="button secondary" href=query.href(None) data-testid="audit-newest">"Newest entries"</a>
        }
    });
    let empty = page.entries.is_empty().then(|| {
        let text =
            if query.is_filtered() { "No entries match these filters." } else { "Nothing recorded yet." };
        view! { <p class="muted" data-testid="audit-empty">{text}</p> }
    });
    view! {
        <section class="card">
            {empty}
            <div class="table-scroll" tabindex="0">
                <table class="table audit" data-testid="audit-table">
                    <thead>
                        <tr>
                            <th>"#"</th>
                            <th>"When (UTC)"</th>
                            <th>"Who"</th>
                            <th>"From"</th>
                            <th>"What"</th>
                            <th>"Outcome"</th>
                            {show_workspace.then(|| view! { <th>"Workspace"</th> })}
                            <th>"Target"</th>
                            <th>"Detail"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.entries.into_iter().map(|e| view! { <AuditRow e show_workspace/> }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="pager">{newest} {older}</p>
        </section>
    }
}

#[component]
fn AuditRow(e: AuditEntry, show_workspace: bool) -> impl IntoView {
    let outcome_class = format!("outcome outcome-{}", e.outcome);
    // A deleted workspace keeps its entries; its id is all that is left to show.
    let workspace = match (e.workspace_id, e.workspace_name) {
        (Some(_), Some(name)) => name,
        (Some(id), None) => format!("#{id} (deleted)"),
        (None, _) => "—".into(),
    };
    let (action, actor) = (e.action.clone(), e.actor.clone());
    view! {
        <tr data-testid="audit-row" data-action=action>
            <td class="mono">{e.seq}</td>
            <td class="nowrap">{format_timestamp(e.at)}</td>
            <td><span class="mono truncate" title=actor>{e.actor}</span></td>
            <td class="mono">{e.ip}</td>
            <td class="mono">{e.action}</td>
            <td><span class=outcome_class>{e.outcome}</span></td>
            {show_workspace.then(|| {
                let title = workspace.clone();
                view! { <td data-testid="audit-workspace"><span class="truncate" title=title>{workspace}</span></td> }
            })}
            <td>{e.target}</td>
            <td>{e.detail}</td>
        </tr>
    }
}
