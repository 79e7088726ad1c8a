//! Following the Nextflow head jobs Strongroom submitted (HPC over SSH, AWS Batch, Google Batch):
//! one step claims the run whose head job is most overdue (a lease, `db::head_jobs`), asks the
//! scheduler its state and records it; polls come every `head_job_poll_ms`, further apart after
//! errors. A head job that is over while its run has not ended ends the run FAILED with the
//! scheduler's words, so the run's secrets are deleted now rather than at the heartbeat timeout. A
//! run whose submit was never recorded (a crash between the scheduler's answer and the database) is
//! submitted again here, even if the run ended meanwhile; the provider finds the job by its name
//! instead of starting another.
//!
//! Ended runs are not polled: their cleanup (`run_steps`) stops a job still going.

use super::{backoff_ms, later, with_deadline};
use crate::db::head_jobs::{self, HeadJobClaim};
use crate::db::runs;
use crate::domain::runs::head_job::{ended_early_message, state_reason};
use crate::domain::Core;
use crate::providers::{ProviderError, SharedStore};
use app::model::RunStatus;
use tokio::time::Instant;

/// Does the most overdue head job step, if any. `Ok(false)` when nothing was due.
pub async fn step(services: &Core, now: i64) -> anyhow::Result<bool> {
    let lease_end = now + services.jobs.claim_lease_ms;
    let Some(claim) = head_jobs::claim_due(&services.db, now, lease_end).await? else {
        return Ok(false);
    };
    let started = Instant::now();
    let opening = services.store_for(claim.workspace_id, &claim.target);
    let store = with_deadline(services, "opening the store", opening).await;
    match (claim.job_id.as_deref(), store) {
        (None, store) => submit(services, &claim.id, store, claim.ended, claim.attempts, now).await?,
        (Some(job_id), Ok(store)) => poll(services, &claim, &store, job_id, now).await?,
        (Some(_), Err(error)) => retry(services, &claim, &error, later(now, started)).await?,
    }
    Ok(true)
}

/// Submits the head job of a run and records the outcome.
///
/// A launched run (`ended` false): the job id and the first poll; a failure that may pass is
/// retried (at most `max_create_attempts` times); any other fails the run with the provider's
/// words, and so cleans it. An ended run whose submit was never recorded (a crash came between):
/// the provider finds the job already submitted by its name (or starts one, which the run's
/// cleanup cancels at once), and the cleanup, which waits for this, learns the id to cancel; any
/// failure gives up so that the cleanup goes on.
pub async fn submit(
    services: &Core,
    workflow_id: &str,
    store: Result<SharedStore, ProviderError>,
    ended: bool,
    attempts: i64,
    now: i64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let Some(run) = runs::find(&services.db.pool, workflow_id).await? else {
        return Ok(());
    };
    let submitting = async {
        let store = store?;
        let jobs = store.head_jobs().ok_or_else(|| {
            ProviderError::Rejected("this compute environment does not start head jobs".into())
        })?;
        services.submit_head_job(&run, jobs).await
    };
    let submitted = with_deadline(services, "submitting the head job", submitting).await;
    let now = later(now, started);
    let pool = &services.db.pool;
    match submitted {
        Ok(job_id) => {
            let first_poll = now + services.jobs.head_job_poll_ms;
            head_jobs::record_submitted(pool, workflow_id, &job_id, now, first_poll).await?;
            tracing::info!(workflow_id, job_id = %job_id, ended, "head job submitted");
        }
        Err(error) if ended => {
            tracing::warn!(workflow_id, %error, "no head job found for an ended run; cleaning up anyway");
            head_jobs::stop(pool, workflow_id).await?;
        }
        Err(error) if error.is_retryable() && attempts + 1 < services.jobs.max_create_attempts => {
            tracing::warn!(workflow_id, %error, "head job submit failed; will retry");
            let next = now + backoff_ms(attempts, services.jobs.retry_base_ms, services.jobs.retry_cap_ms);
            head_jobs::retry_later(pool, workflow_id, next, now).await?;
        }
        Err(error) => {
            tracing::warn!(workflow_id, %error, "head job could not be submitted; the run fails");
            head_jobs::stop(pool, workflow_id).await?;
            let message = format!("The head job could not be submitted: {error}");
            services.end_run(workflow_id, RunStatus::Failed, Some(&message), None).await?;
        }
    }
    if ended {
        services.wake_workers();
    }
    Ok(())
}

/// Asks the scheduler how the head job is doing and records it; ends the run if the job is over.
async fn poll(
    services: &Core,
    claim: &HeadJobClaim,
    store: &SharedStore,
    job_id: &str,
    now: i64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let Some(jobs) = store.head_jobs() else {
        tracing::warn!(workflow_id = %claim.id, "the run's target follows no head jobs; not polling it");
        return Ok(head_jobs::stop(&services.db.pool, &claim.id).await?);
    };
    let state = with_deadline(services, "asking the head job's state", jobs.status(&claim.id, job_id)).await;
    let now = later(now, started);
    let state = match state {
        Ok(state) => state,
        Err(error) => return retry(services, claim, &error, now).await,
    };
    let next = (!state.is_over()).then_some(now + services.jobs.head_job_poll_ms);
    head_jobs::record_state(&services.db.pool, &claim.id, state.as_str(), state_reason(&state), now, next)
        .await?;
    if state.is_over() {
        let message = ended_early_message(job_id, &state);
        // The first end wins: a run Nextflow reported as ended keeps its own status.
        if services.end_run(&claim.id, RunStatus::Failed, Some(&message), None).await? {
            tracing::info!(workflow_id = %claim.id, job_id, state = state.as_str(), "head job ended the run");
        }
    }
    Ok(())
}

/// A poll (or opening the store) failed: polls back off from `head_job_poll_ms`; the scheduler's
/// silence ends nothing by itself (the heartbeat timeout still applies to the run).
async fn retry(services: &Core, claim: &HeadJobClaim, error: &ProviderError, now: i64) -> anyhow::Result<()> {
    tracing::warn!(workflow_id = %claim.id, %error, "head job step failed; will retry");
    let base = services.jobs.head_job_poll_ms;
    let next = now + backoff_ms(claim.attempts, base, services.jobs.retry_cap_ms.max(base * 30));
    head_jobs::retry_later(&services.db.pool, &claim.id, next, now).await?;
    Ok(())
}

/// How long a head job may keep going after Nextflow reported the end of its run (Nextflow
/// exiting, the environment's postRunScript, the scheduler's epilogue) before the cleanup
/// cancels it. The run's secrets are deleted meanwhile; only its last files wait.
pub const FINISH_GRACE_MS: i64 = 5 * 60_000;

/// Whether Nextflow itself ended the run: it reported the end while it was alive (not a cancel,
/// nor the heartbeat timeout). Its head job is then about to exit on its own.
fn ended_by_nextflow(run: &runs::RunRow, heartbeat_timeout_ms: i64) -> bool {
    let last_sign = run.heartbeat_at.or(run.started_at);
    run.status != RunStatus::Cancelled
        && matches!((run.ended_at, last_sign), (Some(end), Some(alive)) if end - alive < heartbeat_timeout_ms)
}

/// Before the last cleanup step of an ended run: a head job not known to be over is asked its
/// state; if still queued or running it is cancelled (idempotent: a job that ended meanwhile is
/// cancelled too), so nothing of the run keeps going on the cluster once its files are gone —
/// unless Nextflow reported the end of the run, when the job gets `FINISH_GRACE_MS` to exit by
/// itself (`Ok(Some(at))`: look again at `at`). An error is the cleanup's to retry.
pub async fn stop_before_cleanup(
    services: &Core,
    claim: &runs::RunClaim,
    store: &SharedStore,
    now: i64,
) -> Result<Option<i64>, ProviderError> {
    let (Some(job_id), Some(jobs)) = (claim.head_job_id.as_deref(), store.head_jobs()) else {
        return Ok(None);
    };
    if head_jobs::is_over(claim.head_job_state.as_deref()) {
        return Ok(None);
    }
    let record_error =
        |e: sqlx::Error| ProviderError::Unavailable(format!("could not record the head job: {e}"));
    let pool = &services.db.pool;
    let state = jobs.status(&claim.id, job_id).await?;
    let reason = state_reason(&state);
    if state.is_over() {
        head_jobs::record_state(pool, &claim.id, state.as_str(), reason, now, None)
            .await
            .map_err(record_error)?;
        return Ok(None);
    }
    let run = runs::find(pool, &claim.id).await.map_err(record_error)?;
    let finishing = run.as_ref().filter(|run| ended_by_nextflow(run, services.jobs.heartbeat_timeout_ms));
    if let Some(ended_at) = finishing.and_then(|run| run.ended_at).filter(|at| now - at < FINISH_GRACE_MS) {
        head_jobs::record_state(pool, &claim.id, state.as_str(), reason, now, None)
            .await
            .map_err(record_error)?;
        return Ok(Some((now + services.jobs.head_job_poll_ms).min(ended_at + FINISH_GRACE_MS)));
    }
    jobs.cancel(&claim.id, job_id).await?;
    tracing::info!(workflow_id = %claim.id, job_id, "head job cancelled as its run ended");
    let reason = "Strongroom cancelled it when the run ended.";
    head_jobs::record_state(pool, &claim.id, head_jobs::CANCELLED, Some(reason), now, None)
        .await
        .map_err(record_error)?;
    Ok(None)
}
