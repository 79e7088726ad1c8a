//! The workspace's Runs tab: every run with its status and where its secret copies are, each
//! linking to its run page, and the way to the launch form for roles that may launch.

use crate::api::runs::list_runs;
use crate::components::{ErrorPanel, Timestamp, WorkspaceResource};
use crate::model::{RunStage, RunStatus, RunSummary};
use leptos::prelude::*;
use leptos_meta::Title;

/// The badge of a run status (`SUCCEEDED`, `FAILED`…).
#[component]
pub fn StatusBadge(status: RunStatus) -> impl IntoView {
    view! {
        <span class=format!("badge status status-{}", status.as_str().to_ascii_lowercase())
            data-testid="run-status">
            {status.as_str()}
        </span>
    }
}

/// The badge of a run's copy stage (`provisioning`, `cleaned`…).
#[component]
pub fn StageBadge(stage: RunStage) -> impl IntoView {
    view! {
        <span class=format!("badge stage stage-{}", stage.as_str()) data-testid="run-stage">
            {stage.as_str().replace('_', " ")}
        </span>
    }
}

/// The resource is created here, synchronously, never inside a `Suspend` (see `SecretsManager`).
#[component]
pub fn RunsTab() -> impl IntoView {
    let workspace = expect_context::<WorkspaceResource>();
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let runs = Resource::new(workspace_id, list_runs);
    let base = move || format!("/orgs/{}/workspaces/{}", org_id(), workspace_id());
    view! {
        <Title text="Runs · Strongroom"/>
        <section class="card" data-testid="runs-tab">
            <header class="card-header">
                <h2>"Runs"</h2>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let may_launch = workspace.await.map(|w| w.grants.launch).unwrap_or(false);
                        may_launch.then(|| view! {
                            <a class="button primary" href=format!("{}/launch", base())
                                data-testid="launch-button">
                                "Launch pipeline"
                            </a>
                        })
                    })}
                </Suspense>
            </header>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty" data-testid="no-runs">"No runs yet."</p>
                        }.into_any(),
                        Ok(list) => view! { <RunsTable list base=base()/> }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RunsTable(list: Vec<RunSummary>, base: String) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="runs-table">
                <thead>
                    <tr>
                        <th>"Run"</th>
                        <th>"Pipeline"</th>
                        <th>"Status"</th>
                        <th>"Secret copies"</th>
                        <th>"Launched by"</th>
                        <th>"Launched"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|run| {
                        let href = format!("{base}/runs/{}", run.id);
                        view! {
                            <tr data-testid="run-row" data-run-id=run.id.clone()>
                                <td>
                                    <a href=href data-testid="run-link">{run.run_name.clone()}</a>
                                    <div class="muted mono">{run.id.clone()}</div>
                                </td>
                                <td class="mono">{run.pipeline.clone()}</td>
                                <td><StatusBadge status=run.status/></td>
                                <td><StageBadge stage=run.stage/></td>
                                <td>{run.launched_by.clone()}</td>
                                <td><Timestamp at=run.created_at/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
