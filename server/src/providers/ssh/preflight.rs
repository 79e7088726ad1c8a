//! The Check of an SSH compute environment: it really connects and tries what launches need,
//! in order, and stops at the first failure with what failed and how to fix it:
//! the host is reachable; its host key is the pinned one (or, unpinned, is remembered for the
//! Check to pin); the key logs in as the account; the account can write a private store in the
//! work directory (modes checked, probe removed); the launch directory exists; the scheduler's
//! submit command is on the account's PATH for non-interactive SSH commands.

use super::errors::{SshError, HOST_KEY_FIX};
use super::exec::line;
use super::run_files;
use super::store::SshStore;
use crate::providers::PreflightFailure;

fn failure(step: &str, message: String, fix: String) -> PreflightFailure {
    PreflightFailure { step: step.into(), message, fix }
}

pub async fn run(store: &SshStore) -> Result<(), PreflightFailure> {
    let endpoint = &store.endpoint;
    let (host, user) = (&endpoint.host, &endpoint.user);
    let conn = store.connection().await.map_err(|error| match error {
        SshError::Unreachable(message) => failure(
            "reach the cluster",
            message,
            format!(
                "Check the hostName ({host}) and port ({}), and that the cluster's login node accepts SSH \
                 connections from the Strongroom host (firewall, VPN).",
                endpoint.port
            ),
        ),
        error @ SshError::HostKeyChanged { .. } => {
            failure("check the cluster's host key", error.message(), HOST_KEY_FIX.into())
        }
        SshError::AuthRefused { fingerprint, public_line, .. } => failure(
            "log in to the cluster",
            format!("the cluster refused the key for {user}"),
            format!(
                "Add this public key ({fingerprint}) to ~{user}/.ssh/authorized_keys on {host}, or choose \
                 credentials whose key the account accepts: {public_line}"
            ),
        ),
        other => failure(
            "log in to the cluster",
            other.message(),
            format!("Check that {user} can log in to {host} over SSH with this key, then run Check again."),
        ),
    })?;

    let work_dir = store.layout.work_dir();
    let sftp = conn.sftp().await.map_err(|e| {
        failure("start SFTP", e.message(), format!("Enable the SFTP subsystem of sshd on {host}."))
    })?;
    let step = "write a private secrets file in the work directory";
    match sftp.lstat(work_dir).await {
        Ok(Some(entry)) if entry.is_dir() => {}
        Ok(Some(_)) => {
            return Err(failure(
                step,
                format!("the work directory {work_dir} on {host} is not a directory (a link or a file)"),
                "Set workDir to the real directory (links are not followed).".into(),
            ))
        }
        Ok(None) => {
            return Err(failure(
                step,
                format!("the work directory {work_dir} does not exist on {host}"),
                format!(
                    "Create {work_dir} (writable by {user}) or choose an existing directory for workDir."
                ),
            ))
        }
        Err(e) => return Err(failure(step, e.message(), format!("Check that {user} can reach {work_dir}."))),
    }
    run_files::probe(&conn, &store.layout).await.map_err(|error| match error {
        SshError::Denied { .. } => failure(
            step,
            format!("{user} cannot write in {work_dir} on {host}: permission denied"),
            format!(
                "Give {user} write access to {work_dir}, or choose a work directory the account can write \
                 (its home or scratch directory)."
            ),
        ),
        other => failure(
            step,
            other.message(),
            format!(
                "Strongroom keeps each run in {}/<install>/<run>, created mode 0700 and owned by {user}; \
                 remove what is in its way, or choose another workDir.",
                store.layout.account_dir()
            ),
        ),
    })?;

    if let Some(launch_dir) = store.launch.launch_dir.as_deref() {
        let checked = conn.run(&line(&["test", "-d", launch_dir])).await;
        if !checked.as_ref().is_ok_and(|out| out.success()) {
            return Err(failure(
                "enter the launch directory",
                format!("the launch directory {launch_dir} does not exist on {host} for {user}"),
                format!("Create {launch_dir} or change launchDir (empty means the work directory)."),
            ));
        }
    }

    let program = store.scheduler.submit_program();
    let found = conn.run(&format!("command -v {program}")).await.map_err(|e| {
        failure("find the scheduler", e.message(), format!("Check that {user} can run commands on {host}."))
    })?;
    if !found.success() || found.stdout.trim().is_empty() {
        return Err(failure(
            "find the scheduler",
            format!("{program} was not found on {host} for {user}"),
            format!(
                "Strongroom submits with {program} in a non-interactive SSH session: make it available there \
                 for {user}: add its directory to PATH in ~{user}/.bashrc (above any line that stops for \
                 non-interactive shells) or ask the cluster's administrators to put it on the default PATH. \
                 A module loaded in the environment's preRunScript reaches the head job, not the submission."
            ),
        ));
    }
    Ok(())
}
