//! The batch systems: for each, the command lines that submit, find, follow and cancel a head
//! job, and the parsers of what their tools print (unit-tested on real output samples).
//!
//! Every command line is built from quoted arguments (`exec::line`) and carries names, ids and
//! paths only. A job id is checked ([`job_id_is_valid`]) before it goes into a command.

mod lsf;
mod moab;
mod pbs;
mod slurm;
mod stop;
mod uge;

use super::errors::SshError;
use super::exec::Output;
use crate::providers::HeadJobState;
use app::model::HpcScheduler;
use async_trait::async_trait;
pub use stop::STOP_PAUSE;

/// A batch system reached over SSH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    Slurm,
    Lsf,
    Pbs,
    Moab,
    Uge,
}

/// What a head job is submitted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// `sr-<workflowId>`: how a resumed submit finds the job again.
    pub name: String,
    /// Where the scheduler writes the job's output (`<runDir>/head.log`).
    pub log: String,
    pub queue: Option<String>,
    /// The environment's `headJobOptions`, split like a shell would.
    pub options: Vec<String>,
    pub script: String,
    /// The account, for the tools that filter by owner.
    pub user: String,
}

/// Runs one command line on the cluster (the store's connection; a recording fake in tests).
#[async_trait]
pub trait Runner: Sync {
    async fn run(&self, line: &str) -> Result<Output, SshError>;
}

impl Scheduler {
    pub fn for_platform(scheduler: HpcScheduler) -> Option<Scheduler> {
        match scheduler {
            HpcScheduler::Slurm => Some(Scheduler::Slurm),
            HpcScheduler::Lsf => Some(Scheduler::Lsf),
            HpcScheduler::Pbs => Some(Scheduler::Pbs),
            HpcScheduler::Moab => Some(Scheduler::Moab),
            HpcScheduler::Uge => Some(Scheduler::Uge),
            HpcScheduler::Local => None,
        }
    }

    /// The command that submits jobs: preflight checks it is on the account's PATH.
    pub fn submit_program(self) -> &'static str {
        match self {
            Scheduler::Slurm => "sbatch",
            Scheduler::Lsf => "bsub",
            Scheduler::Pbs | Scheduler::Uge => "qsub",
            Scheduler::Moab => "msub",
        }
    }

    pub fn submit(self, job: &Submission) -> String {
        match self {
            Scheduler::Slurm => slurm::submit(job),
            Scheduler::Lsf => lsf::submit(job),
            Scheduler::Pbs => pbs::submit(job),
            Scheduler::Moab => moab::submit(job),
            Scheduler::Uge => uge::submit(job),
        }
    }

    /// The job id a successful submit printed.
    pub fn parse_submit(self, output: &Output) -> Option<String> {
        let id = match self {
            Scheduler::Slurm => slurm::parse_submit(&output.stdout),
            Scheduler::Lsf => lsf::parse_submit(&output.stdout),
            Scheduler::Pbs | Scheduler::Uge => first_line(&output.stdout),
            Scheduler::Moab => moab::parse_submit(&output.stdout),
        };
        id.filter(|id| job_id_is_valid(id))
    }

    /// The command listing the account's jobs named `name`, when the tool can (Moab cannot:
    /// there the `job-id` marker alone makes submit idempotent).
    pub fn find(self, name: &str, user: &str) -> Option<String> {
        match self {
            Scheduler::Slurm => Some(slurm::find(name, user)),
            Scheduler::Lsf => Some(lsf::find(name)),
            Scheduler::Pbs => Some(pbs::find(name, user)),
            Scheduler::Uge => Some(uge::find(name)),
            Scheduler::Moab => None,
        }
    }

    /// The id of the first job `find` listed; `None` when there is none.
    pub fn parse_find(self, output: &Output) -> Option<String> {
        if !output.success() {
            return None;
        }
        let id = match self {
            Scheduler::Uge => uge::parse_find(&output.stdout),
            _ => first_line(&output.stdout),
        };
        id.filter(|id| job_id_is_valid(id))
    }

    /// Asks the scheduler how the job is doing, falling back to its accounting when the job
    /// has left the queue.
    pub async fn status(
        self,
        runner: &dyn Runner,
        job_id: &str,
        user: &str,
    ) -> Result<HeadJobState, SshError> {
        check_job_id(job_id)?;
        match self {
            Scheduler::Slurm => slurm::status(runner, job_id).await,
            Scheduler::Lsf => lsf::status(runner, job_id).await,
            Scheduler::Pbs => pbs::status(runner, job_id).await,
            Scheduler::Moab => moab::status(runner, job_id).await,
            Scheduler::Uge => uge::status(runner, job_id, user).await,
        }
    }

    pub fn cancel(self, job_id: &str) -> Result<String, SshError> {
        check_job_id(job_id)?;
        let program = match self {
            Scheduler::Slurm => "scancel",
            Scheduler::Lsf => "bkill",
            Scheduler::Pbs | Scheduler::Uge => "qdel",
            Scheduler::Moab => return Ok(super::exec::line(&["mjobctl", "-c", job_id])),
        };
        Ok(super::exec::line(&[program, job_id]))
    }

    /// Whether a cancel did its job: the job is being stopped, or had already ended or gone.
    pub fn cancel_done(self, output: &Output) -> bool {
        let text = format!("{}\n{}", output.stdout, output.stderr).to_ascii_lowercase();
        let gone = match self {
            Scheduler::Slurm => slurm::CANCEL_GONE.iter().any(|m| text.contains(m)),
            Scheduler::Lsf => lsf::CANCEL_GONE.iter().any(|m| text.contains(m)),
            Scheduler::Pbs => pbs::CANCEL_GONE.iter().any(|m| text.contains(m)),
            Scheduler::Moab => moab::CANCEL_GONE.iter().any(|m| text.contains(m)),
            Scheduler::Uge => uge::CANCEL_GONE.iter().any(|m| text.contains(m)),
        };
        output.success() || gone
    }
}

/// Job ids as the schedulers print them: `123`, `123.server`, `Moab.123`, `123[4]`.
pub fn job_id_is_valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'[' | b']'))
}

fn check_job_id(id: &str) -> Result<(), SshError> {
    if job_id_is_valid(id) {
        Ok(())
    } else {
        Err(SshError::Rejected(format!("'{id}' is not a scheduler job id")))
    }
}

fn first_line(text: &str) -> Option<String> {
    text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_owned)
}

/// `-q`-style queue and the head job options, in the order the tools expect them.
fn queue_and_options(flag: &str, job: &Submission) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(queue) = job.queue.as_deref().filter(|q| !q.trim().is_empty()) {
        args.push(flag.to_owned());
        args.push(queue.trim().to_owned());
    }
    args.extend(job.options.iter().cloned());
    args
}

#[cfg(test)]
pub(crate) mod fake;

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn job() -> Submission {
        Submission {
            name: "sr-1k0K4WlGep8ZTM".into(),
            log: "/s/.strongroom-alice/i/1k0K4WlGep8ZTM/head.log".into(),
            queue: Some("head".into()),
            options: vec!["--mem=2G".into(), "--comment=two words".into()],
            script: "/s/.strongroom-alice/i/1k0K4WlGep8ZTM/head.sh".into(),
            user: "alice".into(),
        }
    }

    #[test]
    fn job_ids_are_checked_before_they_reach_a_command() {
        for id in ["123", "123.pbs-server", "Moab.77", "55[3]", "a_b-c"] {
            assert!(job_id_is_valid(id), "{id}");
            assert!(Scheduler::Slurm.cancel(id).is_ok());
        }
        for id in ["", "-1", "1;rm", "1 2", "$(id)", ".1"] {
            assert!(!job_id_is_valid(id), "{id}");
            assert!(Scheduler::Pbs.cancel(id).is_err());
        }
    }

    #[test]
    fn every_submit_names_the_job_log_queue_options_and_script() {
        for scheduler in [Scheduler::Slurm, Scheduler::Lsf, Scheduler::Pbs, Scheduler::Moab, Scheduler::Uge] {
            let line = scheduler.submit(&job());
            let args = shell_words::split(&line).unwrap();
            assert_eq!(args[0], scheduler.submit_program(), "{line}");
            for part in ["sr-1k0K4WlGep8ZTM", "head", "--mem=2G", "--comment=two words"] {
                assert!(args.iter().any(|a| a == part), "{part} missing in {line}");
            }
            assert!(args.iter().any(|a| a.ends_with("head.log")), "{line}");
            assert_eq!(args.last().unwrap(), &job().script, "{line}");
        }
    }

    #[test]
    fn a_cancel_of_a_job_that_is_gone_is_done() {
        let failed = |stderr: &str| Output { status: Some(1), stdout: String::new(), stderr: stderr.into() };
        assert!(Scheduler::Slurm
            .cancel_done(&failed("scancel: error: Kill job error on job id 42: Invalid job id specified")));
        assert!(Scheduler::Lsf.cancel_done(&failed("Job <42>: Job has already finished")));
        assert!(Scheduler::Pbs.cancel_done(&failed("qdel: Unknown Job Id 42.pbs")));
        assert!(Scheduler::Moab.cancel_done(&failed("ERROR:  invalid job specified (42)")));
        assert!(Scheduler::Uge.cancel_done(&failed("denied: job \"42\" does not exist")));
        assert!(!Scheduler::Slurm
            .cancel_done(&failed("scancel: error: Kill job error on job id 42: Access/permission denied")));
    }
}
