//! The reconciler: whatever happened (a crash between two steps, a worker that gave up, a row
//! restored from an old backup), it lists the copies this install manages in every target it
//! knows and deletes those whose run has ended (after a grace period, so it does not race the
//! worker) or that belong to no known run. It also sends runs stuck in `cleanup_failed` back to
//! the worker. Copies are recognised by this install's tag, label or directory, never by name
//! alone, so nothing else in a shared account is touched.

use crate::db::{compute_envs, run_copies, runs};
use crate::providers::CopySpec;
use crate::services::{RunTarget, Services};
use std::collections::{BTreeMap, BTreeSet};

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
}

/// Every target to look in: each run's snapshot and each compute environment as it is now.
async fn targets(services: &Services) -> anyhow::Result<BTreeSet<(i64, String)>> {
    let mut all: BTreeSet<(i64, String)> =
        runs::distinct_targets(&services.db.pool).await?.into_iter().filter(|(_, t)| !t.is_empty()).collect();
    for env in compute_envs::list_all(&services.db.pool).await? {
        match RunTarget::of_env(&env) {
            Ok(target) => {
                all.insert((env.workspace_id, target.to_json()));
            }
            Err(error) => tracing::warn!(%error, "reconciler skips a compute environment"),
        }
    }
    Ok(all)
}

pub async fn reconcile(services: &Services, now: i64) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for id in runs::with_failed_cleanup(&services.db.pool).await? {
        run_copies::reopen_cleanup(&services.db.pool, &id, None, now).await?;
        report.reopened += 1;
    }
    let grace_ms = services.jobs.reconcile_grace_ms;
    for (workspace_id, target) in targets(services).await? {
        report.targets += 1;
        let store = match services.store_for(workspace_id, &target).await {
            Ok(store) => store,
            Err(error) => {
                tracing::warn!(workspace_id, %error, "reconciler could not open a target");
                report.unreachable += 1;
                continue;
            }
        };
        let managed = match store.list_managed().await {
            Ok(managed) => managed,
            Err(error) => {
                tracing::warn!(workspace_id, %error, "reconciler could not list a target's copies");
                report.unreachable += 1;
                continue;
            }
        };
        report.found += managed.len();
        let mut by_run: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for copy in managed {
            by_run.entry(copy.workflow_id).or_default().push(copy.name);
        }
        for (workflow_id, names) in by_run {
            let orphaned = match runs::ended_at(&services.db.pool, &workflow_id).await? {
                None => true,
                Some(Some(ended_at)) => ended_at <= now - grace_ms,
                Some(None) => false,
            };
            if !orphaned {
                continue;
            }
            let mut all_gone = true;
            for name in names.iter().filter(|n| !n.is_empty()) {
                match store.delete_copy(CopySpec { workflow_id: &workflow_id, name }).await {
                    Ok(()) => {
                        report.deleted += 1;
                        tracing::info!(workflow_id = %workflow_id, secret = %name, "reconciler deleted a leftover copy");
                    }
                    Err(error) => {
                        all_gone = false;
                        tracing::warn!(workflow_id = %workflow_id, secret = %name, %error, "reconciler could not delete a copy");
                    }
                }
            }
            if all_gone {
                if let Err(error) = store.finish_cleanup(&workflow_id).await {
                    tracing::warn!(workflow_id = %workflow_id, %error, "reconciler could not finish a cleanup");
                }
            }
            run_copies::mark_all_deleted(&services.db.pool, &workflow_id, &names, now).await?;
        }
    }
    Ok(report)
}
