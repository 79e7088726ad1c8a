//! IBM Spectrum LSF: `bsub`, `bjobs -o "stat exit_code"` (recently ended jobs included with
//! `-a`), `bkill`.

use super::{queue_and_options, Runner, Submission};
use crate::providers::ssh::errors::SshError;
use crate::providers::ssh::exec::line;
use crate::providers::HeadJobState;

/// The script is given as the job's command (it is executable, 0700, on the shared file system).
pub fn submit(job: &Submission) -> String {
    let mut args = vec!["bsub".to_owned(), "-J".into(), job.name.clone(), "-o".into(), job.log.clone()];
    args.extend(queue_and_options("-q", job));
    args.push(job.script.clone());
    line(&args)
}

/// `Job <1234> is submitted to queue <normal>.`
pub fn parse_submit(stdout: &str) -> Option<String> {
    let rest = stdout.split("Job <").nth(1)?;
    let id = rest.split('>').next()?;
    id.bytes().all(|b| b.is_ascii_digit()).then(|| id.to_owned())
}

/// bjobs shows the caller's own jobs; `-a` adds the recently ended ones.
pub fn find(name: &str) -> String {
    line(&["bjobs", "-noheader", "-a", "-o", "jobid", "-J", name])
}

pub const CANCEL_GONE: [&str; 3] = ["already finished", "is not found", "no matching job found"];

/// `bjobs -noheader -o "stat exit_code"`: `RUN -`, `DONE -`, `EXIT 3`.
pub fn parse_status(stdout: &str) -> Option<HeadJobState> {
    let row = stdout.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut fields = row.split_whitespace();
    let state = fields.next()?;
    let exit_code = fields.next().unwrap_or("-");
    Some(match state {
        "PEND" | "PSUSP" | "WAIT" => HeadJobState::Queued,
        "RUN" | "USUSP" | "SSUSP" | "PROV" | "UNKWN" => HeadJobState::Running,
        "DONE" => HeadJobState::Succeeded,
        "EXIT" => HeadJobState::Failed(format!("EXIT, exit code {exit_code}")),
        "ZOMBI" => HeadJobState::Failed("ZOMBI (killed while its host was unreachable)".into()),
        _ => return None,
    })
}

pub async fn status(runner: &dyn Runner, job_id: &str) -> Result<HeadJobState, SshError> {
    let shown = runner.run(&line(&["bjobs", "-noheader", "-a", "-o", "stat exit_code", job_id])).await?;
    if let Some(state) = parse_status(&shown.stdout).filter(|_| shown.success()) {
        return Ok(state);
    }
    let text = format!("{}{}", shown.stdout, shown.stderr);
    if text.contains("is not found") {
        return Ok(HeadJobState::Gone);
    }
    Err(SshError::Failed(format!("bjobs could not say how job {job_id} is doing: {}", shown.reason())))
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, ok, FakeRunner};
    use super::*;

    #[test]
    fn submit_and_its_answer() {
        let line = submit(&super::super::tests::job());
        assert!(line.starts_with("bsub -J sr-1k0K4WlGep8ZTM -o "), "{line}");
        assert!(line.contains(" -q head '--mem=2G' '--comment=two words' "), "{line}");
        assert_eq!(parse_submit("Job <1234> is submitted to queue <normal>.\n"), Some("1234".into()));
        assert_eq!(parse_submit("Job <1234> is submitted to default queue <normal>.\n"), Some("1234".into()));
        assert_eq!(parse_submit("Queue <nope>: No such queue. Job not submitted.\n"), None);
    }

    #[test]
    fn states_as_bjobs_prints_them() {
        assert_eq!(parse_status("PEND -\n"), Some(HeadJobState::Queued));
        assert_eq!(parse_status("RUN  -\n"), Some(HeadJobState::Running));
        assert_eq!(parse_status("DONE -\n"), Some(HeadJobState::Succeeded));
        assert_eq!(parse_status("EXIT 3\n"), Some(HeadJobState::Failed("EXIT, exit code 3".into())));
        assert_eq!(parse_status(""), None);
    }

    #[tokio::test]
    async fn a_job_bjobs_no_longer_knows_is_gone() {
        let runner = FakeRunner::new(vec![("bjobs", fails(255, "Job <77> is not found\n"))]);
        assert_eq!(status(&runner, "77").await.unwrap(), HeadJobState::Gone);
        assert_eq!(runner.ran(), ["bjobs -noheader -a -o 'stat exit_code' 77"]);
        let runner = FakeRunner::new(vec![("bjobs", ok("EXIT 130\n"))]);
        assert_eq!(status(&runner, "77").await.unwrap(), HeadJobState::Failed("EXIT, exit code 130".into()));
    }
}
