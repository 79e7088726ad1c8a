//! Where a run's files live on the cluster, and the names that may be used to build those paths.
//!
//! `<workDir>/.strongroom-<account>/<installId>/<workflowId>/` holds, per run: `secrets.json`
//! (the store), `run-token`, `job-id` (the scheduler's id, written after submit), `head.sh`,
//! `params.json`, `nextflow.config` and `head.log`. The account is part of the path so accounts
//! sharing a work directory never meet in one directory; the install id so installs sharing an
//! account never touch each other's runs. Every name that goes into a path is checked here first:
//! nothing a user types can climb out of the work directory.

use super::errors::SshError;

pub const STORE_FILE: &str = "secrets.json";
pub const TOKEN_FILE: &str = "run-token";
pub const JOB_ID_FILE: &str = "job-id";
pub const SCRIPT_FILE: &str = "head.sh";
pub const PARAMS_FILE: &str = "params.json";
pub const CONFIG_FILE: &str = "nextflow.config";
pub const LOG_FILE: &str = "head.log";
/// Files being written are `<name>.tmp-<uuid>` until renamed into place.
pub const TEMP_MARK: &str = ".tmp-";

/// The run's paths for one account and install under one work directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    work_dir: String,
    account: String,
    install_id: String,
}

impl Layout {
    /// Checks the work directory (absolute, no `..`), the account and the install id.
    pub fn new(work_dir: &str, account: &str, install_id: &str) -> Result<Layout, String> {
        let work_dir = check_work_dir(work_dir)?;
        if !is_account(account) {
            return Err(format!(
                "'{account}' is not a cluster account name (letters, digits, '.', '_' and '-', \
                 not starting with '-' or '.', at most 64)"
            ));
        }
        if !is_id(install_id) {
            return Err("this install's id cannot name a directory".into());
        }
        Ok(Layout { work_dir, account: account.into(), install_id: install_id.into() })
    }

    pub fn work_dir(&self) -> &str {
        &self.work_dir
    }

    /// `<workDir>/.strongroom-<account>`: the account's own directory in the work directory.
    pub fn account_dir(&self) -> String {
        join(&self.work_dir, &format!(".strongroom-{}", self.account))
    }

    /// `<account dir>/<installId>`: the only directory `list_managed` reads.
    pub fn install_dir(&self) -> String {
        join(&self.account_dir(), &self.install_id)
    }

    /// The run directory of a workflow id (checked).
    pub fn run_dir(&self, workflow_id: &str) -> Result<String, SshError> {
        check_workflow_id(workflow_id)?;
        Ok(join(&self.install_dir(), workflow_id))
    }

    /// A file of the run directory.
    pub fn run_file(&self, workflow_id: &str, name: &str) -> Result<String, SshError> {
        Ok(join(&self.run_dir(workflow_id)?, name))
    }

    /// The directories from the work directory down to the run, in creation order.
    pub fn dirs_to_run(&self, workflow_id: &str) -> Result<[String; 3], SshError> {
        Ok([self.account_dir(), self.install_dir(), self.run_dir(workflow_id)?])
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// An absolute path without `.`/`..` components, without a trailing slash.
pub fn check_work_dir(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if !raw.starts_with('/') {
        return Err(format!("workDir '{raw}' must be an absolute path on the cluster"));
    }
    if raw.split('/').any(|part| part == ".." || part == ".") {
        return Err(format!("workDir '{raw}' must not contain '.' or '..' components"));
    }
    if raw.chars().any(|c| c.is_control()) {
        return Err("workDir must not contain control characters".into());
    }
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty()).collect();
    Ok(format!("/{}", parts.join("/")))
}

/// A POSIX-style account name; it becomes part of a directory name.
pub fn is_account(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['-', '.'])
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Workflow and install ids: ASCII letters, digits and '-', starting with a letter or digit.
pub fn is_id(id: &str) -> bool {
    id.len() <= 64
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub fn check_workflow_id(workflow_id: &str) -> Result<(), SshError> {
    if is_id(workflow_id) {
        Ok(())
    } else {
        Err(SshError::Rejected(format!("'{workflow_id}' is not a workflow id")))
    }
}

/// Whether cleanup may remove a file of a run directory: what Strongroom writes there, the
/// scheduler's log, interrupted writes, and the `.nf-*.secrets` files Nextflow leaves beside the
/// store. Anything else the run made stays (and so does the directory then).
pub fn is_ours(name: &str) -> bool {
    const OURS: [&str; 7] =
        [STORE_FILE, TOKEN_FILE, JOB_ID_FILE, SCRIPT_FILE, PARAMS_FILE, CONFIG_FILE, LOG_FILE];
    OURS.contains(&name)
        || OURS.iter().any(|own| name.strip_prefix(own).is_some_and(|rest| rest.starts_with(TEMP_MARK)))
        || (name.starts_with(".nf-") && name.ends_with(".secrets"))
}

/// A temporary name beside `name`, unique per write.
pub fn temp_name(name: &str) -> String {
    format!("{name}{TEMP_MARK}{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_per_account_install_and_run() {
        let layout = Layout::new("/scratch/", "alice", "inst-1").unwrap();
        assert_eq!(layout.account_dir(), "/scratch/.strongroom-alice");
        assert_eq!(layout.install_dir(), "/scratch/.strongroom-alice/inst-1");
        assert_eq!(
            layout.run_file("1k0K4WlGep8ZTM", STORE_FILE).unwrap(),
            "/scratch/.strongroom-alice/inst-1/1k0K4WlGep8ZTM/secrets.json"
        );
        assert_eq!(Layout::new("/", "bob", "i").unwrap().account_dir(), "/.strongroom-bob");
        assert_eq!(Layout::new("//a//b/", "bob", "i").unwrap().work_dir(), "/a/b");
    }

    #[test]
    fn names_that_could_climb_out_are_refused() {
        assert!(Layout::new("scratch", "alice", "i").is_err());
        assert!(Layout::new("/scratch/../etc", "alice", "i").is_err());
        assert!(Layout::new("/scratch/./x", "alice", "i").is_err());
        for account in ["", "../x", "a/b", "-x", ".hidden", "a b", "a;b", &"a".repeat(65)] {
            assert!(Layout::new("/s", account, "i").is_err(), "{account}");
        }
        assert!(Layout::new("/s", "srtest-alice", "i").is_ok());
        assert!(Layout::new("/s", "alice", "../x").is_err());
        let layout = Layout::new("/s", "alice", "i").unwrap();
        for wf in ["", "..", "a/b", "-a", "a.b", "a b"] {
            assert!(layout.run_dir(wf).is_err(), "{wf}");
        }
    }

    #[test]
    fn cleanup_removes_only_what_is_ours() {
        for name in [
            "secrets.json",
            "secrets.json.tmp-0a1b",
            "run-token",
            "run-token.tmp-x",
            "head.sh",
            "head.log",
            "job-id",
            "params.json",
            "nextflow.config",
            ".nf-5f2a.secrets",
        ] {
            assert!(is_ours(name), "{name}");
        }
        for name in ["work", "report.html", "secrets.jsonx", ".nf-x", "proof.json", "head.shx"] {
            assert!(!is_ours(name), "{name}");
        }
        assert!(temp_name("secrets.json").starts_with("secrets.json.tmp-"));
    }
}
