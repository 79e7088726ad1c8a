//! Background jobs that make the copy lifecycle happen: workers that create and delete copies
//! and take runs through their stages (`copies.rs`, `run_steps.rs`), a follower of the head jobs
//! Strongroom submitted to clusters (`head_jobs.rs`), a timekeeper that ends silent or overlong
//! runs (`timekeeper.rs`), and the reconciler that deletes copies left behind by anything
//! (`reconciler.rs`).
//!
//! Each job does one step per call and takes the time as an argument, so tests drive it without
//! a clock; the loops here only decide when to call, and read the clock once before each call
//! (`now`). Reading it anywhere else in this module is a lint error (`clippy.toml`).
#![deny(clippy::disallowed_methods)]

pub mod copies;
pub mod head_jobs;
pub mod reconciler;
pub mod run_steps;
pub mod timekeeper;

use crate::domain::Core;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest claim lease a configuration may set (`STRONGROOM_CLAIM_LEASE_SECS`): a step's
/// provider deadline must fit inside it with room to record the outcome.
pub const MIN_LEASE_SECS: u64 = 5;
/// The longest: a killed replica's steps wait this long for another to take them over.
pub const MAX_LEASE_SECS: u64 = 3600;

/// What a step's deadline leaves of a lease of `lease_ms`, to record the outcome before the
/// lease ends: a sixth (10 s of the default 60 s).
pub fn lease_margin_ms(lease_ms: i64) -> i64 {
    lease_ms / 6
}

/// Runs one provider step (opening the store and its call) within the configured deadline, which
/// is below the claim lease: a step that has not answered by then is abandoned as `Unavailable`
/// (retried later), so a worker never holds a step past its lease and a dead or hostile
/// endpoint holds a worker only that long.
pub async fn with_deadline<T>(
    services: &Core,
    what: &str,
    step: impl std::future::Future<Output = Result<T, crate::providers::ProviderError>>,
) -> Result<T, crate::providers::ProviderError> {
    let deadline = Duration::from_millis(services.jobs.provider_call_timeout_ms);
    match tokio::time::timeout(deadline, step).await {
        Ok(outcome) => outcome,
        Err(_) => Err(crate::providers::ProviderError::Unavailable(format!(
            "{what} did not finish within {} ms and was abandoned",
            deadline.as_millis()
        ))),
    }
}

/// The time a step's outcome is recorded at: the step's `now` plus the time its provider call
/// took, measured on the monotonic clock, so a retry's backoff counts from the outcome (not
/// from the claim) without reading the wall clock again.
pub fn later(now: i64, started: Instant) -> i64 {
    now.saturating_add(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX))
}

/// The time for the next step, read by the loops below and nowhere else in the jobs. Each step
/// gets a fresh reading, not one shared by a whole pass: a claim's lease counts from it, and a
/// reading taken before an earlier step's provider call would shorten the lease by that call.
#[allow(clippy::disallowed_methods)]
fn now() -> i64 {
    crate::clock::now_ms()
}

/// When to try again after `attempts` failures: exponential from `base_ms`, capped at `cap_ms`,
/// with up to 25 % random jitter so retries of many copies do not arrive together.
pub fn backoff_ms(attempts: i64, base_ms: i64, cap_ms: i64) -> i64 {
    let exponent = attempts.clamp(0, 30) as u32;
    let delay = base_ms.saturating_mul(1i64 << exponent.min(20)).min(cap_ms);
    let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=delay / 4);
    delay - jitter
}

/// Starts the workers, the timekeeper and the reconciler on the runtime. With `workers = 0`
/// nothing starts: a web-only replica, while other replicas do the jobs.
pub fn spawn(services: Arc<Core>) {
    if services.jobs.workers == 0 {
        tracing::info!("workers = 0: this server runs no background jobs");
        return;
    }
    for _ in 0..services.jobs.workers {
        tokio::spawn(worker(services.clone()));
    }
    tokio::spawn(timekeeper_loop(services.clone()));
    tokio::spawn(head_job_loop(services.clone()));
    tokio::spawn(reconciler_loop(services));
}

/// Does copy steps and run steps until there are none due, then waits for a wake-up or the poll.
async fn worker(services: Arc<Core>) {
    let poll = Duration::from_millis(services.jobs.poll_ms);
    loop {
        let wake = services.worker_wake.notified();
        let did_copy = copies::step(&services, now()).await;
        let did_run = run_steps::step(&services, now()).await;
        match (did_copy, did_run) {
            (Ok(false), Ok(false)) => {
                let _ = tokio::time::timeout(poll, wake).await;
            }
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cleanup worker step failed; retrying shortly");
                tokio::time::sleep(poll).await;
            }
            _ => {}
        }
    }
}

async fn timekeeper_loop(services: Arc<Core>) {
    let mut tick = tokio::time::interval(Duration::from_millis(services.jobs.poll_ms.max(100)));
    loop {
        tick.tick().await;
        if let Err(error) = timekeeper::end_overdue_runs(&services, now()).await {
            tracing::warn!(%error, "could not check for overdue runs");
        }
    }
}

/// Polls (and, after a crash, submits) head jobs as they come due, then waits for the next tick.
async fn head_job_loop(services: Arc<Core>) {
    let every = services.jobs.poll_ms.min(services.jobs.head_job_poll_ms.max(10) as u64);
    let mut tick = tokio::time::interval(Duration::from_millis(every));
    loop {
        tick.tick().await;
        loop {
            match head_jobs::step(&services, now()).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    tracing::warn!(%error, "head job step failed; retrying shortly");
                    break;
                }
            }
        }
    }
}

async fn reconciler_loop(services: Arc<Core>) {
    let mut tick = tokio::time::interval(Duration::from_secs(services.jobs.reconcile_interval_secs.max(1)));
    loop {
        tick.tick().await;
        match reconciler::reconcile(&services, now()).await {
            Ok(report) if report.deleted > 0 || report.reopened > 0 || !report.unfinished.is_empty() => {
                tracing::info!(
                    deleted = report.deleted,
                    reopened = report.reopened,
                    unfinished = report.unfinished.len(),
                    "reconciler pass done"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "reconciliation failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_grows_then_stays_under_the_cap() {
        let first = backoff_ms(0, 500, 60_000);
        assert!((375..=500).contains(&first), "{first}");
        let fourth = backoff_ms(3, 500, 60_000);
        assert!((3_000..=4_000).contains(&fourth), "{fourth}");
        for attempts in [10, 30, 1_000] {
            let capped = backoff_ms(attempts, 500, 60_000);
            assert!((45_000..=60_000).contains(&capped), "{capped}");
        }
    }
}
