//! Altair PBS Pro: `qsub`, `qstat -f -x` (ended jobs from the history), `qdel`.

use super::{queue_and_options, Runner, Submission};
use crate::providers::ssh::errors::SshError;
use crate::providers::ssh::exec::line;
use crate::providers::HeadJobState;

pub fn submit(job: &Submission) -> String {
    let mut args = vec!["qsub".to_owned(), "-N".into(), job.name.clone(), "-o".into(), job.log.clone()];
    // One log: standard error joins standard output.
    args.extend(["-j".to_owned(), "oe".into()]);
    args.extend(queue_and_options("-q", job));
    args.push(job.script.clone());
    line(&args)
}

/// The account's jobs of that name, ended ones (`-x`) included.
pub fn find(name: &str, user: &str) -> String {
    line(&["qselect", "-x", "-N", name, "-u", user])
}

pub const CANCEL_GONE: [&str; 3] = ["unknown job id", "job has finished", "job has already finished"];

/// `qstat -f -x`: `    job_state = F`, `    Exit_status = 3`.
pub fn parse_status(stdout: &str) -> Option<HeadJobState> {
    let field = |key: &str| {
        stdout.lines().find_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
    };
    let state = field("job_state")?;
    let exit = field("Exit_status");
    Some(match state.as_str() {
        "Q" | "H" | "W" | "T" => HeadJobState::Queued,
        "R" | "E" | "B" | "S" | "U" => HeadJobState::Running,
        "F" | "X" => match exit.as_deref() {
            Some("0") => HeadJobState::Succeeded,
            Some(code) => HeadJobState::Failed(format!("{state}, exit status {code}")),
            None => HeadJobState::Failed(format!("{state}, ended without an exit status")),
        },
        "M" => HeadJobState::Gone,
        _ => return None,
    })
}

pub async fn status(runner: &dyn Runner, job_id: &str) -> Result<HeadJobState, SshError> {
    let shown = runner.run(&line(&["qstat", "-f", "-x", job_id])).await?;
    if let Some(state) = parse_status(&shown.stdout).filter(|_| shown.success()) {
        return Ok(state);
    }
    if format!("{}{}", shown.stdout, shown.stderr).to_ascii_lowercase().contains("unknown job id") {
        return Ok(HeadJobState::Gone);
    }
    Err(SshError::Failed(format!("qstat could not say how job {job_id} is doing: {}", shown.reason())))
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, ok, FakeRunner};
    use super::*;

    const FINISHED: &str = "Job Id: 1234.pbs-server\n    Job_Name = sr-1k0K4WlGep8ZTM\n    \
        Job_Owner = alice@login1\n    resources_used.walltime = 00:00:01\n    job_state = F\n    \
        queue = workq\n    Exit_status = 3\n    Submit_arguments = -N sr-1k0K4WlGep8ZTM head.sh\n";

    #[test]
    fn submit_joins_the_logs() {
        let line = submit(&super::super::tests::job());
        assert!(line.starts_with("qsub -N sr-1k0K4WlGep8ZTM -o "), "{line}");
        assert!(line.contains(" -j oe -q head '--mem=2G' '--comment=two words' "), "{line}");
    }

    #[test]
    fn states_as_qstat_prints_them() {
        assert_eq!(parse_status(FINISHED), Some(HeadJobState::Failed("F, exit status 3".into())));
        assert_eq!(
            parse_status(&FINISHED.replace("Exit_status = 3", "Exit_status = 0")),
            Some(HeadJobState::Succeeded)
        );
        assert_eq!(
            parse_status(&FINISHED.replace("job_state = F", "job_state = Q")),
            Some(HeadJobState::Queued)
        );
        assert_eq!(
            parse_status(&FINISHED.replace("job_state = F", "job_state = R")),
            Some(HeadJobState::Running)
        );
    }

    #[tokio::test]
    async fn an_unknown_job_is_gone() {
        let runner = FakeRunner::new(vec![("qstat", fails(153, "qstat: Unknown Job Id 1234.pbs-server\n"))]);
        assert_eq!(status(&runner, "1234.pbs-server").await.unwrap(), HeadJobState::Gone);
        let runner = FakeRunner::new(vec![("qstat", ok(FINISHED))]);
        assert_eq!(
            status(&runner, "1234.pbs-server").await.unwrap(),
            HeadJobState::Failed("F, exit status 3".into())
        );
        assert_eq!(runner.ran(), ["qstat -f -x 1234.pbs-server"]);
    }
}
