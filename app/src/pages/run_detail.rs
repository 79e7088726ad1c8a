//! A run's page: its status, the state of each secret copy, and how to start Nextflow for it.
//!
//! The first view comes with the page (server-rendered). In the browser the page then asks for
//! the run again every second until its copies are all gone (stage `cleaned`), so states move
//! from planned to created to deleted in front of the user without a reload; leaving the page
//! stops the polling. Copies show where they are (a path, an ARN), never a value. A run on a
//! cluster over SSH also shows its head job: the scheduler's job id, state and reason.

use super::runs::{StageBadge, StatusBadge};
use crate::api::runs::{describe_run, CancelRun};
use crate::components::{action_error, copy_node_text, ErrorPanel};
use crate::model::{format_timestamp, CopyView, HeadJobView, RunDetail, RunStage, RunStatus, SecretSource};
use leptos::html::Pre;
use leptos::prelude::*;
use leptos_meta::Title;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POLL: Duration = Duration::from_secs(1);

/// Whether polling can stop: every copy is gone, or the run cannot be read any more.
fn settled(run: &Result<RunDetail, crate::error::AppError>) -> bool {
    match run {
        Ok(detail) => detail.summary.stage == RunStage::Cleaned,
        Err(crate::error::AppError::Transport(_)) => false,
        Err(_) => true,
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let org_id = super::id_param("org_id");
    let workspace_id = super::id_param("workspace_id");
    let params = leptos_router::hooks::use_params_map();
    let workflow_id = move || params.read().get("workflow_id").unwrap_or_default();
    // The server-rendered first view; it does not refetch, so the view built from it stays put.
    let initial = Resource::new(move || (workspace_id(), workflow_id()), |(w, id)| describe_run(w, id));
    // What the browser polled since, newer than `initial` once set.
    let live = RwSignal::new(None::<Result<RunDetail, crate::error::AppError>>);
    // A polled answer about another run (the page was reused for a different workflow id) is
    // ignored until the next poll.
    let current = Memo::new(move |_| {
        let id = workflow_id();
        live.get().filter(|r| r.as_ref().map_or(true, |d| d.summary.id == id)).or_else(|| initial.get())
    });
    let cancel = ServerAction::<CancelRun>::new();
    let confirming = RwSignal::new(false);

    // Polling lives in the browser only (effects do not run on the server). One request at a
    // time; the interval is cleared once the run is settled and when the page unmounts. Its
    // handle lives outside the page's reactive storage, so the cleanup finds it even when that
    // storage is already gone; and a tick that still fires after the page left does nothing
    // (reading disposed storage would panic: an `unreachable` trap in the release WASM).
    let in_flight = StoredValue::new(false);
    let interval: Arc<Mutex<Option<IntervalHandle>>> = Arc::default();
    let stop = {
        let interval = interval.clone();
        move || {
            if let Some(handle) = interval.lock().ok().and_then(|mut slot| slot.take()) {
                handle.clear();
            }
        }
    };
    Effect::new({
        let stop = stop.clone();
        move |_| {
            let done = current.with(|c| c.as_ref().is_some_and(settled));
            if done {
                stop();
            } else if interval.lock().is_ok_and(|slot| slot.is_none()) {
                let poll = move || {
                    if in_flight.try_get_value() != Some(false) {
                        return;
                    }
                    let Some((w, id)) = params.try_with_untracked(|p| {
                        let w = p.get("workspace_id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                        (w, p.get("workflow_id").unwrap_or_default())
                    }) else {
                        return;
                    };
                    in_flight.set_value(true);
                    leptos::task::spawn_local(async move {
                        let result = describe_run(w, id).await;
                        let _ = in_flight.try_set_value(false);
                        let _ = live.try_set(Some(result));
                    });
                };
                if let Ok(handle) = set_interval_with_handle(poll, POLL) {
                    if let Ok(mut slot) = interval.lock() {
                        *slot = Some(handle);
                    }
                }
            }
        }
    });
    on_cleanup(stop);
    // A cancel shows at once rather than at the next tick.
    Effect::new(move |_| {
        if matches!(cancel.value().get(), Some(Ok(()))) {
            let (w, id) = (untrack(workspace_id), workflow_id_untracked(params));
            leptos::task::spawn_local(async move {
                let _ = live.try_set(Some(describe_run(w, id).await));
            });
        }
    });

    let runs_href = move || format!("/orgs/{}/workspaces/{}/runs", org_id(), workspace_id());
    view! {
        <Title text="Run · Strongroom"/>
        <div data-testid="run-page">
            <p><a href=runs_href>"← All runs"</a></p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(_) => view! {
                            <RunBody current cancel confirming workspace_id=workspace_id()/>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

fn workflow_id_untracked(params: Memo<leptos_router::params::ParamsMap>) -> String {
    params.with_untracked(|p| p.get("workflow_id").unwrap_or_default())
}

/// The run, kept in step with `current` part by part (so a selection in the command survives
/// a refresh that did not change it).
#[component]
fn RunBody(
    current: Memo<Option<Result<RunDetail, crate::error::AppError>>>,
    cancel: ServerAction<CancelRun>,
    confirming: RwSignal<bool>,
    workspace_id: i64,
) -> impl IntoView {
    let detail = Memo::new(move |_| current.get().and_then(Result::ok));
    let summary = Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.summary.clone())));
    let copies =
        Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.copies.clone()).unwrap_or_default()));
    let launch_env =
        Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.launch_env.clone()).unwrap_or_default()));
    let command =
        Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.command.clone()).unwrap_or_default()));
    let message = Memo::new(move |_| detail.with(|d| d.as_ref().and_then(|d| d.message.clone())));
    let can_cancel = Memo::new(move |_| detail.with(|d| d.as_ref().is_some_and(|d| d.can_cancel)));
    let head_job = Memo::new(move |_| detail.with(|d| d.as_ref().and_then(|d| d.head_job.clone())));
    let facts = Memo::new(move |_| {
        detail.with(|d| d.as_ref().map(|d| (d.revision.clone(), d.started_at, d.heartbeat_at)))
    });
    let cancel_error = action_error(cancel);
    let refresh_error =
        move || current.with(|c| c.as_ref().and_then(|r| r.as_ref().err()).map(|e| e.to_string()));
    let live = move || summary.with(|s| s.as_ref().is_some_and(|s| s.stage != RunStage::Cleaned));
    let field = |f: fn(&crate::model::RunSummary) -> String| {
        move || summary.with(|s| s.as_ref().map(f).unwrap_or_default())
    };

    view! {
        <section class="card">
            <header class="card-header">
                <div>
                    <h2 data-testid="run-name">{field(|s| s.run_name.clone())}</h2>
                    <p class="muted mono" data-testid="run-id">{field(|s| s.id.clone())}</p>
                </div>
                <div class="run-badges">
                    // Labelled: the run's own status, then where its secret copies are.
                    {move || summary.get().map(|s| view! {
                        <span class="badge-label">"Run"</span>
                        <StatusBadge status=s.status/>
                        <span class="badge-label">"Secret copies"</span>
                        <StageBadge stage=s.stage/>
                    })}
                    {move || live().then(|| view! {
                        <span class="live-dot" title="This page updates itself every second.">"live"</span>
                    })}
                </div>
            </header>
            // A cancel is news said plainly ("Cancelled by Ada Admin."), not an error in red.
            {move || message.get().map(|m| {
                let cancelled = summary.with(|s| s.as_ref().is_some_and(|s| s.status == RunStatus::Cancelled));
                if cancelled {
                    view! { <p class="run-note" role="status" data-testid="run-message">{m}</p> }.into_any()
                } else {
                    view! { <p class="run-message" role="alert" data-testid="run-message">{m}</p> }.into_any()
                }
            })}
            <dl class="facts">
                <dt>"Pipeline"</dt>
                <dd class="mono" data-testid="run-pipeline">{field(|s| s.pipeline.clone())}</dd>
                <dt>"Revision"</dt>
                <dd class="mono">
                    {move || facts.get().and_then(|f| f.0).unwrap_or_else(|| "default".into())}
                </dd>
                <dt>"Compute environment"</dt>
                <dd>{field(|s| s.compute_env_name.clone().unwrap_or_else(|| "none".into()))}</dd>
                <dt>"Launched by"</dt>
                <dd data-testid="run-launched-by">{field(|s| s.launched_by.clone())}</dd>
                <dt>"Launched"</dt><dd>{field(|s| format_timestamp(s.created_at))}</dd>
                <dt>"Started"</dt>
                <dd>{move || {
                    facts.get().and_then(|f| f.1).map(format_timestamp).unwrap_or_else(|| "not yet".into())
                }}</dd>
                <dt>"Last heartbeat"</dt>
                <dd>{move || {
                    facts.get().and_then(|f| f.2).map(format_timestamp).unwrap_or_else(|| "none".into())
                }}</dd>
                <dt>"Ended"</dt>
                <dd>{field(|s| s.ended_at.map(format_timestamp).unwrap_or_else(|| "not yet".into()))}</dd>
                {move || head_job.get().map(|job| view! { <HeadJobFacts job/> })}
            </dl>
            {move || can_cancel.get().then(|| view! {
                <div class="run-actions">
                    <Show when=move || confirming.get() fallback=move || view! {
                        <button type="button" class="danger-outline" data-testid="cancel-run"
                            on:click=move |_| confirming.set(true)>"Cancel run"</button>
                    }>
                        <span class="confirm" data-testid="confirm-cancel">
                            "Cancel this run? Its secret copies are deleted, so a running pipeline \
                             loses them. "
                            <button type="button" class="danger" data-testid="confirm-cancel-run"
                                on:click=move |_| {
                                    confirming.set(false);
                                    let workflow_id = summary.with_untracked(|s| {
                                        s.as_ref().map(|s| s.id.clone()).unwrap_or_default()
                                    });
                                    cancel.dispatch(CancelRun { workspace_id, workflow_id });
                                }>"Cancel run"</button>
                            <button type="button" on:click=move |_| confirming.set(false)>
                                "Keep it running"
                            </button>
                        </span>
                    </Show>
                </div>
            })}
            {move || cancel_error.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            {move || refresh_error().map(|m| view! {
                <p class="form-error" role="alert">{format!("Could not refresh the run: {m}")}</p>
            })}
        </section>
        <section class="card">
            <h2>"Secret copies"</h2>
            <CopiesTable copies/>
        </section>
        <section class="card">
            <h2>"Launch environment"</h2>
            <p class="muted">
                "Names and values Nextflow starts with. Secret values are not here: Nextflow reads them \
                 from the copies."
            </p>
            <div class="table-scroll" tabindex="0">
                <table class="table" data-testid="launch-env">
                    <thead><tr><th>"Name"</th><th>"Value"</th></tr></thead>
                    <tbody>
                        {move || launch_env.get().into_iter().map(|(name, value)| view! {
                            <tr data-testid="env-row" data-name=name.clone()>
                                <td class="mono">{name.clone()}</td>
                                <td class="mono wrap">{value}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            // The command matters only while the run is going and nothing started Nextflow for it:
            // a platform that submits the head job itself shows that job instead.
            <Show when=move || {
                head_job.with(Option::is_none)
                    && summary.with(|s| s.as_ref().is_some_and(|s| !s.status.is_final()))
            }>
                <p class="hint" data-testid="starts-by-hand">
                    "This platform does not start Nextflow for you: run the command below where Nextflow \
                     can read the copies, with an access token of yours in TOWER_ACCESS_TOKEN ("
                    <a href="/user/tokens">"create one under Access tokens"</a>")."
                </p>
                <CommandBlock command/>
            </Show>
        </section>
    }
}

/// The head job Strongroom submitted (to the cluster, AWS Batch or Google Batch): its id and
/// state (with a link to the cloud's console), the scheduler's or Batch service's words on how
/// it ended, and how long it waited in the queue.
#[component]
fn HeadJobFacts(job: HeadJobView) -> impl IntoView {
    let queued = match (job.submitted_at, job.started_at) {
        (Some(submitted), Some(started)) => waited(started - submitted),
        (Some(submitted), None) if job.state == "QUEUED" => {
            format!("still queued (since {})", format_timestamp(submitted))
        }
        _ => "—".into(),
    };
    view! {
        <dt>"Head job"</dt>
        <dd>
            <span class="mono" data-testid="head-job-id">{job.job_id.clone()}</span>
            " "
            <span class="badge" data-testid="head-job-state">{job.state.clone()}</span>
            {job.console_url.clone().map(console_link)}
        </dd>
        <dt>"Submitted"</dt>
        <dd>{job.submitted_at.map(format_timestamp).unwrap_or_else(|| "—".into())}</dd>
        <dt>"Waited in the queue"</dt>
        <dd data-testid="head-job-queued">{queued}</dd>
        {job.reason.clone().map(|reason| view! {
            <dt>"Scheduler says"</dt>
            <dd class="mono wrap" data-testid="head-job-reason">{reason}</dd>
        })}
    }
    .into_any()
}

/// The cloud console's page of the head job (type-erased: the run page's view type is deep).
fn console_link(url: String) -> AnyView {
    view! {
        " "
        <a href=url target="_blank" rel="noopener noreferrer" data-testid="head-job-console">
            "Open in the console"
        </a>
    }
    .into_any()
}

/// A wait in words: "42 s", "3 min 5 s", "2 h 10 min".
fn waited(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[component]
fn CopiesTable(copies: Memo<Vec<CopyView>>) -> impl IntoView {
    view! {
        {move || copies.with(Vec::is_empty).then(|| view! {
            <p class="empty" data-testid="no-copies">"This run has no secrets."</p>
        })}
        <div class="table-scroll" tabindex="0">
            <table class="table" data-testid="copies-table">
                <thead>
                    <tr>
                        <th>"Secret"</th>
                        <th>"Value from"</th>
                        <th>"State"</th>
                        <th>"Where"</th>
                        <th>"Last error"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || copies.get().into_iter().map(|copy| {
                        let whose = match copy.source {
                            SecretSource::User => "yours",
                            SecretSource::Workspace => "workspace",
                        };
                        let state = copy.state.as_str();
                        view! {
                            <tr data-testid="copy-row" data-name=copy.name.clone()
                                data-source=copy.source.as_str()
                                data-state=state>
                                <td class="mono">{copy.name.clone()}</td>
                                <td>{whose}</td>
                                <td>
                                    <span class=format!("badge copy-state state-{state}")
                                        data-testid="copy-state">{state}</span>
                                </td>
                                <td class="mono wrap">
                                    {copy.reference.clone().unwrap_or_else(|| "—".into())}
                                </td>
                                <td class="copy-error">{copy.error.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The command to start Nextflow for this run, with a Copy button.
#[component]
fn CommandBlock(command: Memo<String>) -> impl IntoView {
    let pre = NodeRef::<Pre>::new();
    let copied = RwSignal::new(None::<bool>);
    view! {
        <div class="command-block">
            <div class="card-header">
                <h3>"Start Nextflow"</h3>
                <button type="button" data-testid="copy-command"
                    on:click=move |_| {
                        if let Some(node) = pre.get() {
                            copied.set(Some(copy_node_text(node.as_ref())));
                        }
                    }>"Copy"</button>
            </div>
            <pre node_ref=pre class="command" data-testid="run-command">{move || command.get()}</pre>
            {move || copied.get().map(|ok| if ok {
                view! { <p class="hint" role="status">"Copied to the clipboard."</p> }
            } else {
                view! {
                    <p class="hint" role="status">
                        "Could not copy: the command is selected, press Ctrl+C (⌘C)."
                    </p>
                }
            })}
        </div>
    }
}
