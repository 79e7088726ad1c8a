//! Cancelling a head job, then waiting until the scheduler reports it over.
//!
//! A scheduler stops a job in its own time. One that was just starting may still open its log in
//! the run directory after the cancel command returned; the cleanup that follows the cancel would
//! list that directory first and leave it behind, log and all. So a cancel returns only once the
//! job is over. A job still stopping after a few looks is an error that may pass: the cleanup
//! tries again later, and cancelling again is harmless.

use super::{Runner, Scheduler, SshError};
use std::time::Duration;

/// How often a cancelled job's state is asked before the cancel gives up for now.
const STOP_LOOKS: usize = 8;
/// The pause between two looks: with `STOP_LOOKS`, about two seconds, well within a step's
/// deadline.
pub const STOP_PAUSE: Duration = Duration::from_millis(250);

impl Scheduler {
    /// Cancels `job_id` and waits, asking its state up to `STOP_LOOKS` times `pause` apart, until
    /// it is over.
    pub async fn cancel_until_over(
        self,
        runner: &dyn Runner,
        job_id: &str,
        user: &str,
        pause: Duration,
    ) -> Result<(), SshError> {
        let output = runner.run(&self.cancel(job_id)?).await?;
        if !self.cancel_done(&output) {
            return Err(SshError::Failed(format!("could not cancel job {job_id}: {}", output.reason())));
        }
        for look in 0..STOP_LOOKS {
            if self.status(runner, job_id, user).await?.is_over() {
                return Ok(());
            }
            if look + 1 < STOP_LOOKS {
                tokio::time::sleep(pause).await;
            }
        }
        Err(SshError::Failed(format!("job {job_id} was cancelled and is still stopping")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, ok, FakeRunner};
    use super::*;

    const SACCT: &str = "sacct -n -X -P -j 42";

    async fn cancel(runner: &FakeRunner) -> Result<(), SshError> {
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
        cancel(&runner).await.unwrap();
        let ran = runner.ran();
        assert_eq!(ran.first().map(String::as_str), Some("scancel 42"));
        assert_eq!(ran.iter().filter(|l| l.starts_with("squeue")).count(), 3, "{ran:?}");
        assert!(ran.last().unwrap().starts_with(SACCT), "{ran:?}");
    }

    #[tokio::test]
    async fn a_job_still_stopping_after_the_looks_is_an_error_that_may_pass() {
        let runner = FakeRunner::new(vec![("scancel 42", ok("")), ("squeue -h -j 42", ok("COMPLETING\n"))]);
        let error = cancel(&runner).await.unwrap_err();
        assert!(matches!(&error, SshError::Failed(m) if m.contains("still stopping")), "{error:?}");
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
        cancel(&gone).await.unwrap();
    }
}
