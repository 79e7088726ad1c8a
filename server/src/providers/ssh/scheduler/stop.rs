//! Cancelling a head job, then waiting a moment until the scheduler reports it over.
//!
//! A scheduler stops a job in its own time. One that was just starting may still open its log in
//! the run directory after the cancel command returned; the cleanup that follows the cancel would
//! list that directory first and leave it behind, log and all. So a cancel waits, about two
//! seconds at most, until the job is over. A job stopping slower than that (a node that does not
//! answer can hold a job "completing" for hours) does not hold the cleanup: the run's secrets are
//! already deleted by then, and the reconciler removes whatever such a job writes later.

use super::{Runner, Scheduler, SshError};
use std::time::Duration;

/// How often a cancelled job's state is asked before the cancel stops waiting.
const STOP_LOOKS: usize = 8;
/// The pause between two looks: with `STOP_LOOKS`, about two seconds, well within a step's
/// deadline.
pub const STOP_PAUSE: Duration = Duration::from_millis(250);

impl Scheduler {
    /// Cancels `job_id`, then asks its state up to `STOP_LOOKS` times `pause` apart until it is
    /// over: `Ok(true)` once it is, `Ok(false)` if it was still stopping at the last look.
    pub async fn cancel_until_over(
        self,
        runner: &dyn Runner,
        job_id: &str,
        user: &str,
        pause: Duration,
    ) -> Result<bool, SshError> {
        let output = runner.run(&self.cancel(job_id)?).await?;
        if !self.cancel_done(&output) {
            return Err(SshError::Failed(format!("could not cancel job {job_id}: {}", output.reason())));
        }
        for look in 0..STOP_LOOKS {
            if self.status(runner, job_id, user).await?.is_over() {
                return Ok(true);
            }
            if look + 1 < STOP_LOOKS {
                tokio::time::sleep(pause).await;
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, ok, FakeRunner};
    use super::*;

    const SACCT: &str = "sacct -n -X -P -j 42";

    async fn cancel(runner: &FakeRunner) -> Result<bool, SshError> {
        Scheduler::Slurm.cancel_until_over(runner, "42", "srtest-alice", Duration::ZERO).await
    }

    #[tokio::test]
    async fn a_cancel_returns_once_the_job_has_left_the_queue() {
        let runner = FakeRunner::new(vec![
            ("scancel 42", ok("")),
            ("squeue -h -j 42", ok("COMPLETING\n")),
            ("squeue -h -j 42", ok("COMPLETING\n")),
            ("squeue -h -j 42", ok("")),
            (SACCT, ok("CANCELLED by 1001|0:15\n")),
        ]);
        assert!(cancel(&runner).await.unwrap(), "over");
        let ran = runner.ran();
        assert_eq!(ran.first().map(String::as_str), Some("scancel 42"));
        assert_eq!(ran.iter().filter(|l| l.starts_with("squeue")).count(), 3, "{ran:?}");
        assert!(ran.last().unwrap().starts_with(SACCT), "{ran:?}");
    }

    #[tokio::test]
    async fn a_job_still_stopping_after_the_looks_is_reported_not_waited_for_longer() {
        let runner = FakeRunner::new(vec![("scancel 42", ok("")), ("squeue -h -j 42", ok("COMPLETING\n"))]);
        assert!(!cancel(&runner).await.unwrap(), "still stopping");
        assert_eq!(runner.ran().iter().filter(|l| l.starts_with("squeue")).count(), STOP_LOOKS);
    }

    #[tokio::test]
    async fn a_refused_cancel_asks_nothing_more_and_a_gone_job_counts_as_cancelled() {
        let refused =
            FakeRunner::new(vec![("scancel 42", fails(1, "scancel: error: Access/permission denied"))]);
        let error = cancel(&refused).await.unwrap_err();
        assert!(matches!(&error, SshError::Failed(m) if m.contains("could not cancel job 42")), "{error:?}");
        assert_eq!(refused.ran(), vec!["scancel 42".to_string()]);

        let gone = FakeRunner::new(vec![
            ("scancel 42", fails(1, "scancel: error: Kill job error on job id 42: Invalid job id specified")),
            ("squeue -h -j 42", fails(1, "slurm_load_jobs error: Invalid job id specified")),
            (SACCT, ok("CANCELLED by 1001|0:15\n")),
        ]);
        assert!(cancel(&gone).await.unwrap(), "a job already gone is over");
    }
}
