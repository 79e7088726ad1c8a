//! One step of one copy: create it (reading and decrypting the value just before the call) or
//! delete it, then record the outcome. Transient failures are retried with capped exponential
//! backoff; a create gives up after `max_create_attempts` (the run then fails and is cleaned);
//! a delete never gives up on a transient failure, and a permanent one leaves the copy `failed`
//! for the reconciler and for people to see.

use super::{backoff_ms, later, with_deadline};
use crate::db::run_copies::{self, CopyClaim};
use crate::db::secrets::Owner;
use crate::domain::Core;
use crate::providers::{CopySpec, ProviderError};
use app::model::{CopyState, SecretSource};

/// Does the most overdue copy step, if any. `Ok(false)` when nothing was due.
pub async fn step(services: &Core, now: i64) -> anyhow::Result<bool> {
    let lease_end = now + services.jobs.claim_lease_ms;
    let Some(claim) = run_copies::claim_due(&services.db, now, lease_end).await? else {
        return Ok(false);
    };
    let started = tokio::time::Instant::now();
    let outcome = match claim.state {
        CopyState::Creating => with_deadline(services, "creating the copy", create(services, &claim)).await,
        CopyState::Deleting => with_deadline(services, "deleting the copy", delete(services, &claim)).await,
        other => Err(ProviderError::Rejected(format!("unexpected copy state {}", other.as_str()))),
    };
    let now = later(now, started);
    let pool = &services.db.pool;
    match outcome {
        Ok(Some(reference)) => run_copies::created(pool, claim.id, &reference, now).await?,
        Ok(None) => run_copies::deleted(pool, claim.id, now).await?,
        Err(error) => {
            let message = error.to_string();
            let give_up = !error.is_retryable()
                || (claim.state == CopyState::Creating
                    && claim.attempts + 1 >= services.jobs.max_create_attempts);
            tracing::warn!(
                workflow_id = %claim.run_id, secret = %claim.name, step = claim.state.as_str(),
                attempts = claim.attempts + 1, give_up, error = %message, "copy step failed"
            );
            let next =
                now + backoff_ms(claim.attempts, services.jobs.retry_base_ms, services.jobs.retry_cap_ms);
            if !give_up || !run_copies::failed(pool, claim.id, claim.state, &message, now).await? {
                run_copies::retry_later(pool, claim.id, &message, next, now).await?;
            }
        }
    }
    services.wake_workers();
    Ok(true)
}

async fn create(services: &Core, claim: &CopyClaim) -> Result<Option<String>, ProviderError> {
    let store = services.store_for(claim.workspace_id, &claim.target).await?;
    let owner = match claim.source {
        SecretSource::User => Owner::User(claim.launched_by),
        SecretSource::Workspace => Owner::Workspace(claim.workspace_id),
    };
    let value = services
        .open_secret_for_copy(owner, claim.source_secret_id)
        .await
        .map_err(|e| ProviderError::Unavailable(format!("could not read the secret: {e}")))?
        .ok_or_else(|| {
            ProviderError::Rejected(format!(
                "the secret {} was deleted before it could be copied",
                claim.name
            ))
        })?;
    let copy = CopySpec { workflow_id: &claim.run_id, name: &claim.name };
    store.create_copy(copy, &value).await.map(Some)
}

async fn delete(services: &Core, claim: &CopyClaim) -> Result<Option<String>, ProviderError> {
    let store = services.store_for(claim.workspace_id, &claim.target).await?;
    store.delete_copy(CopySpec { workflow_id: &claim.run_id, name: &claim.name }).await.map(|()| None)
}
