//! Slurm: `sbatch --parsable`, `squeue`, then `sacct` (when accounting works) or `scontrol`
//! once the job has left the queue, `scancel`.

use super::{queue_and_options, Runner, Submission};
use crate::providers::ssh::errors::SshError;
use crate::providers::ssh::exec::line;
use crate::providers::HeadJobState;

pub fn submit(job: &Submission) -> String {
    let mut args = vec!["sbatch".to_owned(), "--parsable".into(), "-J".into(), job.name.clone()];
    args.extend(["-o".to_owned(), job.log.clone()]);
    args.extend(queue_and_options("-p", job));
    args.push(job.script.clone());
    line(&args)
}

/// `--parsable` prints `<id>` or `<id>;<cluster>`.
pub fn parse_submit(stdout: &str) -> Option<String> {
    let first = stdout.lines().map(str::trim).find(|l| !l.is_empty())?;
    let id = first.split(';').next()?.trim();
    id.bytes().all(|b| b.is_ascii_digit()).then(|| id.to_owned())
}

/// Every state, ended ones included, so a job that already ran is found too.
pub fn find(name: &str, user: &str) -> String {
    line(&["squeue", "-h", "-t", "all", "-u", user, "-n", name, "-o", "%i"])
}

pub const CANCEL_GONE: [&str; 2] = ["invalid job id specified", "already completing or completed"];

/// squeue's `%T`, for a job that has not ended.
fn live_state(state: &str) -> Option<HeadJobState> {
    match state {
        "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESV_DEL_HOLD"
        | "SPECIAL_EXIT" => Some(HeadJobState::Queued),
        "RUNNING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING" | "SUSPENDED" | "STOPPED" | "RESIZING" => {
            Some(HeadJobState::Running)
        }
        _ => None,
    }
}

/// An ended job's state and exit code (`COMPLETED`, `0:0`) as a head job state.
fn ended(state: &str, exit_code: &str, reason: Option<&str>) -> HeadJobState {
    // sacct writes "CANCELLED by 1001"; the first word is the state.
    let state = state.split_whitespace().next().unwrap_or(state);
    if let Some(live) = live_state(state) {
        return live;
    }
    if state == "COMPLETED" && exit_code == "0:0" {
        return HeadJobState::Succeeded;
    }
    let mut words = format!("{state}, exit code {exit_code}");
    if let Some(reason) = reason.filter(|r| !r.is_empty() && *r != "None") {
        words.push_str(&format!(", reason {reason}"));
    }
    HeadJobState::Failed(words)
}

/// `sacct -n -X -P -o State,ExitCode`: `COMPLETED|0:0`.
pub fn parse_sacct(stdout: &str) -> Option<HeadJobState> {
    let row = stdout.lines().map(str::trim).find(|l| !l.is_empty())?;
    let (state, exit_code) = row.split_once('|')?;
    Some(ended(state.trim(), exit_code.trim(), None))
}

/// `scontrol show job -o`: one line of `Key=Value` pairs.
pub fn parse_scontrol(stdout: &str) -> Option<HeadJobState> {
    let field = |key: &str| {
        stdout.split_whitespace().find_map(|pair| pair.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
    };
    let state = field("JobState")?;
    Some(ended(state, field("ExitCode").unwrap_or("?"), field("Reason")))
}

pub async fn status(runner: &dyn Runner, job_id: &str) -> Result<HeadJobState, SshError> {
    let queued = runner.run(&line(&["squeue", "-h", "-j", job_id, "-o", "%T"])).await?;
    let queue_state = queued.stdout.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_owned);
    if queued.success() {
        if let Some(live) = queue_state.as_deref().and_then(live_state) {
            return Ok(live);
        }
    }
    let accounted =
        runner.run(&line(&["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State,ExitCode"])).await?;
    if accounted.success() {
        if let Some(state) = parse_sacct(&accounted.stdout) {
            return Ok(state);
        }
    }
    let shown = runner.run(&line(&["scontrol", "show", "job", "-o", job_id])).await?;
    if shown.success() {
        if let Some(state) = parse_scontrol(&shown.stdout) {
            return Ok(state);
        }
    }
    Ok(match queue_state.filter(|_| queued.success()) {
        Some(state) if state == "COMPLETED" => HeadJobState::Succeeded,
        Some(state) => HeadJobState::Failed(state),
        None => HeadJobState::Gone,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, ok, FakeRunner};
    use super::*;

    // Samples from Slurm 22.05–23.11 (Debian's slurm-wlm).
    const SCONTROL_FAILED: &str = "JobId=42 JobName=sr-1k0K4WlGep8ZTM UserId=srtest-alice(1001) \
        GroupId=srtest-alice(1001) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) \
        JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 \
        Reboot=0 ExitCode=3:0 RunTime=00:00:01 TimeLimit=UNLIMITED TimeMin=N/A";
    const INVALID: &str = "slurm_load_jobs error: Invalid job id specified";

    #[test]
    fn submit_is_parsable_and_quoted() {
        let line = submit(&super::super::tests::job());
        assert!(line.starts_with("sbatch --parsable -J sr-1k0K4WlGep8ZTM -o "), "{line}");
        assert!(line.contains(" -p head '--mem=2G' '--comment=two words' "), "{line}");
        assert_eq!(parse_submit("4242\n"), Some("4242".into()));
        assert_eq!(parse_submit("4242;cluster1\n"), Some("4242".into()));
        assert_eq!(parse_submit("sbatch: error: Batch job submission failed"), None);
    }

    #[test]
    fn ended_jobs_read_as_the_scheduler_words_them() {
        assert_eq!(parse_sacct("COMPLETED|0:0\n"), Some(HeadJobState::Succeeded));
        assert_eq!(parse_sacct("FAILED|3:0\n"), Some(HeadJobState::Failed("FAILED, exit code 3:0".into())));
        assert_eq!(
            parse_sacct("CANCELLED by 1001|0:15\n"),
            Some(HeadJobState::Failed("CANCELLED, exit code 0:15".into()))
        );
        assert_eq!(parse_sacct("RUNNING|0:0\n"), Some(HeadJobState::Running));
        assert_eq!(parse_sacct(""), None);
        assert_eq!(
            parse_scontrol(SCONTROL_FAILED),
            Some(HeadJobState::Failed("FAILED, exit code 3:0, reason NonZeroExitCode".into()))
        );
        let completed =
            SCONTROL_FAILED.replace("JobState=FAILED", "JobState=COMPLETED").replace("3:0", "0:0");
        assert_eq!(parse_scontrol(&completed), Some(HeadJobState::Succeeded));
    }

    #[tokio::test]
    async fn a_queued_job_is_read_from_squeue_alone() {
        let runner = FakeRunner::new(vec![("squeue", ok("PENDING\n"))]);
        assert_eq!(status(&runner, "42").await.unwrap(), HeadJobState::Queued);
        assert_eq!(runner.ran(), ["squeue -h -j 42 -o '%T'"]);
    }

    #[tokio::test]
    async fn without_accounting_scontrol_tells_how_it_ended() {
        let runner = FakeRunner::new(vec![
            ("squeue", fails(1, INVALID)),
            ("sacct", fails(1, "sacct: error: Slurm accounting storage is disabled")),
            ("scontrol", ok(SCONTROL_FAILED)),
        ]);
        let state = status(&runner, "42").await.unwrap();
        assert_eq!(state, HeadJobState::Failed("FAILED, exit code 3:0, reason NonZeroExitCode".into()));
        assert_eq!(runner.ran().len(), 3);
    }

    #[tokio::test]
    async fn a_job_no_tool_knows_is_gone() {
        let runner = FakeRunner::new(vec![
            ("squeue", fails(1, INVALID)),
            ("sacct", ok("")),
            ("scontrol", fails(1, INVALID)),
        ]);
        assert_eq!(status(&runner, "42").await.unwrap(), HeadJobState::Gone);
    }
}
