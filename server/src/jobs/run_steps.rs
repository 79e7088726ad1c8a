//! One run-level step, taken once a run's copies are settled:
//! - provisioning, every copy created → the target prepares the launch (AWS registers the job
//!   definition), the run is `launched`, and its head job is submitted (HPC over SSH,
//!   `head_jobs`) or the HPC launch command (if any) is started;
//! - provisioning, a copy failed → the run fails with that copy's error, and cleanup begins;
//! - cleaning, no copy left to delete → a head job still going is cancelled, the target's last
//!   tidy-up, then `cleaned`; or
//!   `cleanup_failed` if a copy could not be deleted (the reconciler keeps trying).

use super::{backoff_ms, head_jobs, later, with_deadline};
use crate::db::{run_copies, runs};
use crate::domain::Core;
use crate::providers::{CreatedCopy, ProviderError};
use app::model::{CopyState, RunStage, RunStatus};
use tokio::time::Instant;

pub async fn step(services: &Core, now: i64) -> anyhow::Result<bool> {
    let lease_end = now + services.jobs.claim_lease_ms;
    let Some(claim) = runs::claim_due_step(&services.db, now, lease_end).await? else {
        return Ok(false);
    };
    let started = Instant::now();
    let copies = run_copies::list_for_run(&services.db.pool, &claim.id).await?;
    let failed = copies.iter().find(|c| c.state == CopyState::Failed);
    match (claim.stage, failed) {
        (RunStage::Provisioning, Some(copy)) => {
            let message = format!(
                "Could not copy the secret {} to the compute environment: {}",
                copy.name,
                copy.last_error.as_deref().unwrap_or("unknown error")
            );
            services.end_run(&claim.id, RunStatus::Failed, Some(&message), None).await?;
            runs::release(&services.db.pool, &claim.id).await?;
        }
        (RunStage::Provisioning, None) => {
            let created: Vec<CreatedCopy> = copies
                .iter()
                .filter(|c| c.state == CopyState::Created)
                .map(|c| CreatedCopy {
                    name: c.name.clone(),
                    reference: c.reference.clone().unwrap_or_default(),
                })
                .collect();
            let prepare = async {
                let store = services.store_for(claim.workspace_id, &claim.target).await?;
                let env = store.prepare_launch(&claim.id, &created).await?;
                Ok((store, env))
            };
            let prepared = with_deadline(services, "preparing the launch", prepare).await;
            match prepared {
                Ok((store, env)) => {
                    let env = serde_json::to_string(&env)?;
                    let at = later(now, started);
                    // A target that starts the head job itself has its submit due from now on
                    // (leased to this step), in the same write: see `db::head_jobs`.
                    let submit_lease =
                        store.head_jobs().is_some().then_some(at + services.jobs.claim_lease_ms);
                    if runs::mark_launched(&services.db.pool, &claim.id, &env, at, submit_lease).await? {
                        tracing::info!(
                            workflow_id = %claim.id, copies = created.len(),
                            "run launched: every copy is in place"
                        );
                        if submit_lease.is_some() {
                            head_jobs::submit(services, &claim.id, Ok(store), false, 0, at).await?;
                        } else {
                            services.start_launch_command(&claim.id).await;
                        }
                    } else {
                        runs::release(&services.db.pool, &claim.id).await?;
                    }
                }
                Err(error) => retry_or_fail(services, &claim, error, true, later(now, started)).await?,
            }
        }
        (RunStage::Cleaning, Some(copy)) => {
            let message = format!(
                "Could not delete the copy of {}: {}. Strongroom keeps trying.",
                copy.name,
                copy.last_error.as_deref().unwrap_or("unknown error")
            );
            runs::mark_cleanup_over(
                &services.db.pool,
                &claim.id,
                RunStage::CleanupFailed,
                Some(&message),
                now,
            )
            .await?;
        }
        (RunStage::Cleaning, None) => {
            let finish = async {
                let store = services.store_for(claim.workspace_id, &claim.target).await?;
                // A head job still finishing on its own is given time (`Some`: look again then).
                if let Some(again_at) = head_jobs::stop_before_cleanup(services, &claim, &store, now).await? {
                    return Ok(Some(again_at));
                }
                store.finish_cleanup(&claim.id).await.map(|()| None)
            };
            let finished = with_deadline(services, "the last cleanup step", finish).await;
            match finished {
                Ok(Some(again_at)) => runs::step_again_at(&services.db.pool, &claim.id, again_at).await?,
                Ok(None) => {
                    runs::mark_cleanup_over(
                        &services.db.pool,
                        &claim.id,
                        RunStage::Cleaned,
                        None,
                        later(now, started),
                    )
                    .await?;
                    services.delete_run_token(claim.launched_by, &claim.id).await?;
                    // Replaced credentials kept for this run alone can go now.
                    let forgotten = services.forget_unneeded_credential_versions(claim.workspace_id).await;
                    if let Err(error) = forgotten {
                        let workflow_id = &claim.id;
                        tracing::warn!(%workflow_id, %error, "could not delete unneeded credentials");
                    }
                    tracing::info!(workflow_id = %claim.id, "run cleaned: no copy remains");
                }
                Err(error) => retry_or_fail(services, &claim, error, false, later(now, started)).await?,
            }
        }
        (stage, _) => {
            let stage = stage.as_str();
            tracing::warn!(workflow_id = %claim.id, stage, "run step claimed in an unexpected stage");
            runs::release(&services.db.pool, &claim.id).await?;
        }
    }
    services.wake_workers();
    Ok(true)
}

async fn retry_or_fail(
    services: &Core,
    claim: &runs::RunClaim,
    error: ProviderError,
    launching: bool,
    now: i64,
) -> anyhow::Result<()> {
    if error.is_retryable() && (!launching || claim.attempts + 1 < services.jobs.max_create_attempts) {
        let next = now + backoff_ms(claim.attempts, services.jobs.retry_base_ms, services.jobs.retry_cap_ms);
        tracing::warn!(workflow_id = %claim.id, %error, "run step failed; will retry");
        runs::retry_step_later(&services.db.pool, &claim.id, next, now).await?;
    } else if launching {
        let message = format!("The compute environment could not prepare the launch: {error}");
        services.end_run(&claim.id, RunStatus::Failed, Some(&message), None).await?;
        runs::release(&services.db.pool, &claim.id).await?;
    } else {
        let message = format!("The last cleanup step failed: {error}. Strongroom keeps trying.");
        runs::mark_cleanup_over(&services.db.pool, &claim.id, RunStage::CleanupFailed, Some(&message), now)
            .await?;
    }
    Ok(())
}
