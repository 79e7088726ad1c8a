//! Univa / Altair Grid Engine: `qsub -terse`, `qstat` (live jobs) then `qacct` (ended ones),
//! `qdel`.

use super::{queue_and_options, Runner, Submission};
use crate::providers::ssh::errors::SshError;
use crate::providers::ssh::exec::line;
use crate::providers::HeadJobState;

pub fn submit(job: &Submission) -> String {
    let mut args = vec!["qsub".to_owned(), "-terse".into(), "-N".into(), job.name.clone()];
    args.extend(["-o".to_owned(), job.log.clone(), "-j".into(), "y".into()]);
    args.extend(queue_and_options("-q", job));
    args.push(job.script.clone());
    line(&args)
}

/// `qstat -j <name>` describes the live jobs of that name.
pub fn find(name: &str) -> String {
    line(&["qstat", "-j", name])
}

/// `job_number:                 12345`.
pub fn parse_find(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|l| l.trim().strip_prefix("job_number:").map(|v| v.trim().to_owned()))
}

pub const CANCEL_GONE: [&str; 2] = ["does not exist", "has already been deleted"];

/// A `qstat` row of the job: `job-ID prior name user state ...`; the state letters (`qw`, `r`,
/// `Eqw`, `dr`).
pub fn parse_qstat(stdout: &str, job_id: &str) -> Option<HeadJobState> {
    let row = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&job_id))?;
    let state = *row.get(4)?;
    Some(if state.contains('E') {
        HeadJobState::Failed(format!("{state} (error state)"))
    } else if state.contains('r') || state.contains('t') || state.contains('s') || state.contains('S') {
        HeadJobState::Running
    } else {
        HeadJobState::Queued
    })
}

/// `qacct -j`: `failed       0` and `exit_status  3`.
pub fn parse_qacct(stdout: &str) -> Option<HeadJobState> {
    let field = |key: &str| {
        stdout.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some(key)).then(|| parts.collect::<Vec<_>>().join(" "))
        })
    };
    let exit = field("exit_status")?;
    let failed = field("failed").unwrap_or_else(|| "0".into());
    Some(if exit == "0" && failed == "0" {
        HeadJobState::Succeeded
    } else {
        HeadJobState::Failed(format!("failed {failed}, exit status {exit}"))
    })
}

pub async fn status(runner: &dyn Runner, job_id: &str, user: &str) -> Result<HeadJobState, SshError> {
    let live = runner.run(&line(&["qstat", "-u", user])).await?;
    if let Some(state) = parse_qstat(&live.stdout, job_id).filter(|_| live.success()) {
        return Ok(state);
    }
    let accounted = runner.run(&line(&["qacct", "-j", job_id])).await?;
    if let Some(state) = parse_qacct(&accounted.stdout).filter(|_| accounted.success()) {
        return Ok(state);
    }
    Ok(HeadJobState::Gone)
}

#[cfg(test)]
mod tests {
    use super::super::fake::{fails, ok, FakeRunner};
    use super::*;

    const QSTAT: &str = "job-ID     prior   name       user         state submit/start at     queue      \
        slots ja-task-ID \n-----------------------------------------------------------------\n     \
        12345 0.55500 sr-1k0K4Wl alice        r     01/08/2024 10:00:00 all.q@node1    1        \n     \
        12346 0.00000 other      alice        qw    01/08/2024 10:00:01                1        \n";
    const QACCT: &str =
        "==============================================================\nqname        all.q\n\
        hostname     node1\nowner        alice\njobname      sr-1k0K4WlGep8ZTM\njobnumber    12345\n\
        failed       0    \nexit_status  3                   \n";

    #[test]
    fn submit_find_and_states() {
        let line = submit(&super::super::tests::job());
        assert!(line.starts_with("qsub -terse -N sr-1k0K4WlGep8ZTM -o "), "{line}");
        assert!(line.contains(" -j y -q head "), "{line}");
        assert_eq!(
            parse_find("==========\njob_number:                 12345\nexec_file: x\n"),
            Some("12345".into())
        );
        assert_eq!(parse_qstat(QSTAT, "12345"), Some(HeadJobState::Running));
        assert_eq!(parse_qstat(QSTAT, "12346"), Some(HeadJobState::Queued));
        assert_eq!(parse_qstat(QSTAT, "1"), None);
        assert_eq!(parse_qacct(QACCT), Some(HeadJobState::Failed("failed 0, exit status 3".into())));
        assert_eq!(
            parse_qacct(&QACCT.replace("exit_status  3", "exit_status  0")),
            Some(HeadJobState::Succeeded)
        );
    }

    #[tokio::test]
    async fn an_ended_job_is_read_from_qacct_and_an_unknown_one_is_gone() {
        let runner = FakeRunner::new(vec![("qstat", ok(QSTAT)), ("qacct", ok(QACCT))]);
        let state = status(&runner, "99", "alice").await.unwrap();
        assert_eq!(state, HeadJobState::Failed("failed 0, exit status 3".into()));
        let runner =
            FakeRunner::new(vec![("qstat", ok("")), ("qacct", fails(1, "error: job id 99 not found\n"))]);
        assert_eq!(status(&runner, "99", "alice").await.unwrap(), HeadJobState::Gone);
    }
}
