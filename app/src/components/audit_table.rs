use crate::model::{format_timestamp, AuditPage};
use leptos::prelude::*;

/// A page of audit entries, newest first, with a link to the next older page.
#[component]
pub fn AuditTable(page: AuditPage, #[prop(optional)] show_workspace: bool) -> impl IntoView {
    let older = page.older_than.map(|seq| {
        view! {
            <a class="button secondary" href=format!("?older_than={seq}") data-testid="audit-older">
                "Older entries"
            </a>
        }
    });
    let empty = page.entries.is_empty();
    view! {
        <section class="card">
            {empty.then(|| view! { <p class="muted" data-testid="audit-empty">"Nothing recorded yet."</p> })}
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
                        {page.entries.into_iter().map(|e| {
                            let outcome_class = format!("outcome outcome-{}", e.outcome);
                            let action = e.action.clone();
                            view! {
                                <tr data-testid="audit-row" data-action=action>
                                    <td class="mono">{e.seq}</td>
                                    <td>{format_timestamp(e.at)}</td>
                                    <td class="mono">{e.actor}</td>
                                    <td class="mono">{e.ip}</td>
                                    <td class="mono">{e.action}</td>
                                    <td><span class=outcome_class>{e.outcome}</span></td>
                                    {show_workspace.then(|| view! {
                                        <td class="mono">
                                            {e.workspace_id.map(|id| id.to_string())
                                                .unwrap_or_else(|| "—".into())}
                                        </td>
                                    })}
                                    <td>{e.target}</td>
                                    <td>{e.detail}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {older}
        </section>
    }
}
