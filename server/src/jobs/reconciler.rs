//! The reconciler: whatever happened (a crash between two steps, a worker that gave up, a row
//! restored from an old backup), it lists the copies this install manages in every target it
//! knows and deletes those whose run has ended (after a grace period, so it does not race the
//! worker) or that belong to no known run. It also sends runs stuck in `cleanup_failed` back to
//! the worker. Copies are recognised by this install's tag, label or directory, never by name
//! alone, so nothing else in a shared account is touched.
//!
//! Targets are worked on concurrently (`reconcile_concurrency` at once), each within its own
//! time budget (`reconcile_target_budget_secs`), so a dead or hostile endpoint delays only its
//! own target; the report names the targets a pass could not finish, and the next pass tries
//! them again. A copy's row is marked deleted only when its delete succeeded, and only for runs
//! of the target's own workspace (a listing is the endpoint's word, not ours).

use crate::db::{compute_envs, run_copies, runs};
use crate::domain::Core;
use crate::providers::{CopySpec, RunTarget};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Targets listed.
    pub targets: usize,
    /// Copies found that this install manages.
    pub found: usize,
    /// Copies deleted here.
    pub deleted: usize,
    /// Runs sent back to cleaning.
    pub reopened: usize,
    /// Targets that could not be listed (the next pass tries again).
    pub unreachable: usize,
    /// Targets this pass could not finish (could not open, list, or ran out of time), with why.
    pub unfinished: Vec<Unfinished>,
}

/// A target the pass could not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub workspace_id: i64,
    /// The target in words (platform, region or project, endpoint), never its credentials.
    pub target: String,
    pub reason: String,
}

/// A target to look in, or why a run's stored target could not be read (the pass reports it).
type Listed = Result<RunTarget, String>;

/// Every target to look in: each run's snapshot and each compute environment as it is now. A
/// cluster reached over SSH is listed per account: an environment with shared credentials as
/// its one account, an environment on a managed identity once per account registered with the
/// identity (`account_targets`), since each account has its own directory on the cluster.
async fn targets(services: &Core) -> anyhow::Result<HashSet<(i64, Listed)>> {
    let mut all = HashSet::new();
    for (workspace_id, target) in runs::distinct_targets(&services.db.pool).await? {
        let target = match target {
            Ok(target) => Ok(as_current(services, workspace_id, as_identity(target)).await?),
            Err(unreadable) => Err(unreadable),
        };
        all.insert((workspace_id, target));
    }
    for env in compute_envs::list_all(&services.db.pool).await? {
        match env.target() {
            // A managed cloud identity is reached only as a run's identity: its runs are listed
            // above, one target per identity.
            Ok(target) if target.config.cloud_identity.is_some() => {}
            Ok(target) => {
                for account in services.account_targets(target).await? {
                    all.insert((env.workspace_id, Ok(account)));
                }
            }
            Err(error) => tracing::warn!(%error, "reconciler skips a compute environment"),
        }
    }
    Ok(all)
}

/// A run of a managed cloud identity is looked in as its identity (subject and role), not as
/// the run: every run of one identity is one target, with one exchange per pass.
fn as_identity(mut target: RunTarget) -> RunTarget {
    if let Some(session) = target.cloud_session.as_mut() {
        session.workflow_id = None;
        session.session_name =
            crate::domain::compute::cloud_identity::session_name(session.user_id, Some("reconciler"));
    }
    target
}

/// A run's snapshot pins the credentials version it provisioned with; while that version is
/// still the current one, the snapshot is the same target as its environment now, and is listed
/// once, not twice.
async fn as_current(services: &Core, workspace_id: i64, mut target: RunTarget) -> anyhow::Result<RunTarget> {
    let (Some(id), Some(pinned)) = (target.credentials_id, target.credentials_version) else {
        return Ok(target);
    };
    if crate::db::credentials::current_version(&services.db.pool, workspace_id, id).await? == Some(pinned) {
        target.credentials_version = None;
    }
    Ok(target)
}

/// Counts shared by the targets of one pass; kept even when a target runs out of time.
#[derive(Default)]
struct Counts {
    found: AtomicUsize,
    deleted: AtomicUsize,
}

/// Why a target was not finished.
enum Stop {
    /// The store could not be opened or listed.
    Unreachable(String),
    /// Anything else (a database error).
    Failed(String),
}

pub async fn reconcile(services: &Core, now: i64) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for id in runs::with_failed_cleanup(&services.db.pool).await? {
        run_copies::reopen_cleanup(&services.db.pool, &id, None, now).await?;
        report.reopened += 1;
    }
    let all = targets(services).await?;
    report.targets = all.len();
    let budget = Duration::from_millis(services.jobs.reconcile_target_budget_ms);
    let counts = Counts::default();
    let counts = &counts;
    let outcomes: Vec<Option<(bool, Unfinished)>> = futures_util::stream::iter(all)
        .map(|(workspace_id, target)| async move {
            let outcome = match &target {
                Ok(target) => {
                    let pass = reconcile_target(services, workspace_id, target, now, counts);
                    tokio::time::timeout(budget, pass).await
                }
                Err(unreadable) => {
                    Ok(Err(Stop::Unreachable(format!("could not open the target: {unreadable}"))))
                }
            };
            let (unreachable, reason) = match outcome {
                Ok(Ok(())) => return None,
                Ok(Err(Stop::Unreachable(reason))) => (true, reason),
                Ok(Err(Stop::Failed(reason))) => (false, reason),
                Err(_) => (
                    false,
                    format!("did not finish within {} s; the next pass tries again", budget.as_secs_f32()),
                ),
            };
            let unfinished = Unfinished { workspace_id, target: describe(&target), reason };
            tracing::warn!(
                workspace_id, target = %unfinished.target, reason = %unfinished.reason,
                "reconciler could not finish a target"
            );
            Some((unreachable, unfinished))
        })
        .buffer_unordered(services.jobs.reconcile_concurrency)
        .collect()
        .await;
    for (unreachable, unfinished) in outcomes.into_iter().flatten() {
        report.unreachable += usize::from(unreachable);
        report.unfinished.push(unfinished);
    }
    report.unfinished.sort_by(|a, b| (a.workspace_id, &a.target).cmp(&(b.workspace_id, &b.target)));
    report.found = counts.found.load(Ordering::Relaxed);
    report.deleted = counts.deleted.load(Ordering::Relaxed);
    Ok(report)
}

/// One target: list its copies, delete those of ended or unknown runs, record what was deleted.
async fn reconcile_target(
    services: &Core,
    workspace_id: i64,
    target: &RunTarget,
    now: i64,
    counts: &Counts,
) -> Result<(), Stop> {
    let db_error = |e: sqlx::Error| Stop::Failed(format!("database error: {e}"));
    let store = services
        .store_for(workspace_id, target)
        .await
        .map_err(|error| Stop::Unreachable(format!("could not open the target: {error}")))?;
    let managed = store
        .list_managed()
        .await
        .map_err(|error| Stop::Unreachable(format!("could not list the target's copies: {error}")))?;
    counts.found.fetch_add(managed.len(), Ordering::Relaxed);
    let mut by_run: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for copy in managed {
        by_run.entry(copy.workflow_id).or_default().push(copy.name);
    }
    let grace_ms = services.jobs.reconcile_grace_ms;
    for (workflow_id, names) in by_run {
        let orphaned = match runs::ended_at(&services.db.pool, &workflow_id).await.map_err(db_error)? {
            None => true,
            Some(Some(ended_at)) => ended_at <= now - grace_ms,
            Some(None) => false,
        };
        if !orphaned {
            continue;
        }
        let mut deleted = Vec::new();
        for name in names.iter().filter(|n| !n.is_empty()) {
            match store.delete_copy(CopySpec { workflow_id: &workflow_id, name }).await {
                Ok(()) => {
                    counts.deleted.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%workflow_id, secret = %name, "reconciler deleted a leftover copy");
                    deleted.push(name.clone());
                }
                Err(error) => {
                    tracing::warn!(
                        %workflow_id, secret = %name, %error,
                        "reconciler could not delete a copy"
                    );
                }
            }
        }
        if deleted.len() == names.iter().filter(|n| !n.is_empty()).count() {
            if let Err(error) = store.finish_cleanup(&workflow_id).await {
                tracing::warn!(workflow_id = %workflow_id, %error, "reconciler could not finish a cleanup");
            }
        }
        // Only what was really deleted, and only in this target's workspace.
        run_copies::mark_deleted_in_workspace(&services.db.pool, workspace_id, &workflow_id, &deleted, now)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// A target in words for reports and logs: platform, where, and the endpoint's origin. Never
/// the credentials (the target holds only their id anyway).
fn describe(target: &Listed) -> String {
    let Ok(target) = target else {
        return "a target with unreadable settings".into();
    };
    let c = &target.config;
    let place = [
        c.host_name.as_deref().map(|h| format!("host {h}")),
        c.user_name.as_deref().map(|u| format!("account {u}")),
        c.region.as_deref().map(|r| format!("region {r}")),
        c.project.as_deref().map(|p| format!("project {p}")),
        c.work_dir.as_deref().map(|w| format!("work directory {w}")),
        c.endpoint_url
            .as_deref()
            .and_then(|e| url::Url::parse(e).ok())
            .map(|u| format!("endpoint {}", u.origin().ascii_serialization())),
    ];
    let place: Vec<String> = place.into_iter().flatten().collect();
    format!("{} {}", target.platform, place.join(", ")).trim().to_string()
}
