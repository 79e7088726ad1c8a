//! Moab: `msub`, `checkjob`, `mjobctl -c`. Moab cannot list jobs by name, so only the `job-id`
//! marker written after submit makes a resumed submit find its job.

use super::{queue_and_options, Runner, Submission};
use crate::providers::ssh::errors::SshError;
use crate::providers::ssh::exec::line;
use crate::providers::HeadJobState;

pub fn submit(job: &Submission) -> String {
    let mut args = vec!["msub".to_owned(), "-N".into(), job.name.clone(), "-o".into(), job.log.clone()];
    args.extend(["-j".to_owned(), "oe".into()]);
    args.extend(queue_and_options("-q", job));
    args.push(job.script.clone());
    line(&args)
}

/// msub prints the id alone on a line, after a blank one: `\n12345\n` or `Moab.12345`.
pub fn parse_submit(stdout: &str) -> Option<String> {
    stdout.lines().map(str::trim).rfind(|l| !l.is_empty()).map(str::to_owned)
}

pub const CANCEL_GONE: [&str; 3] = ["cannot locate job", "invalid job specified", "already completed"];

/// `checkjob`: `State: Completed` and `Completion Code: 0  Time: ...`.
pub fn parse_status(stdout: &str) -> Option<HeadJobState> {
    let field =
        |key: &str| stdout.lines().find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_owned()));
    let state = field("State:")?;
    let state = state.split_whitespace().next()?.to_owned();
    let code = field("Completion Code:").and_then(|c| c.split_whitespace().next().map(str::to_owned));
    Some(match state.as_str() {
        "Idle" | "Hold" | "Deferred" | "BatchHold" | "SystemHold" | "UserHold" | "Staging" | "Starting"
        | "NotQueued" | "Blocked" => HeadJobState::Queued,
        "Running" | "Suspended" => HeadJobState::Running,
        "Completed" if code.as_deref() == Some("0") => HeadJobState::Succeeded,
        _ => HeadJobState::Failed(match code {
            Some(code) => format!("{state}, completion code {code}"),
            None => state,
        }),
    })
}

pub async fn status(runner: &dyn Runner, job_id: &str) -> Result<HeadJobState, SshError> {
    let shown = runner.run(&line(&["checkjob", job_id])).await?;
    if let Some(state) = parse_status(&shown.stdout).filter(|_| shown.success()) {
        return Ok(state);
    }
    let text = format!("{}{}", shown.stdout, shown.stderr);
    if text.contains("cannot locate job") || text.contains("invalid job specified") {
        return Ok(HeadJobState::Gone);
    }
    Err(SshError::Failed(format!("checkjob could not say how job {job_id} is doing: {}", shown.reason())))
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, FakeRunner};
    use super::*;

    const COMPLETED: &str = "job 12345\n\nAName: sr-1k0K4WlGep8ZTM\nState: Completed \n\
        Completion Code: 3  Time: Mon Jan  8 10:00:00\nCreds:  user:alice  group:alice  class:batch\n";

    #[test]
    fn submit_and_states() {
        let line = submit(&super::super::tests::job());
        assert!(line.starts_with("msub -N sr-1k0K4WlGep8ZTM -o "), "{line}");
        assert_eq!(parse_submit("\n12345\n"), Some("12345".into()));
        assert_eq!(parse_submit("\nMoab.12345\n"), Some("Moab.12345".into()));
        assert_eq!(
            parse_status(COMPLETED),
            Some(HeadJobState::Failed("Completed, completion code 3".into()))
        );
        let ok = COMPLETED.replace("Code: 3", "Code: 0");
        assert_eq!(parse_status(&ok), Some(HeadJobState::Succeeded));
        assert_eq!(parse_status("job 1\nState: Idle\n"), Some(HeadJobState::Queued));
        assert_eq!(parse_status("job 1\nState: Running\n"), Some(HeadJobState::Running));
        assert_eq!(parse_status("job 1\nState: Removed\n"), Some(HeadJobState::Failed("Removed".into())));
    }

    #[tokio::test]
    async fn a_job_moab_cannot_locate_is_gone() {
        let runner = FakeRunner::new(vec![("checkjob", fails(1, "ERROR:  cannot locate job '12345'\n"))]);
        assert_eq!(status(&runner, "12345").await.unwrap(), HeadJobState::Gone);
    }
}
