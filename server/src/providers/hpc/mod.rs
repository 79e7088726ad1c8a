//! HPC targets (Slurm, LSF, PBS, local): a Nextflow local secrets store per run.
//!
//! Layout: `<workDir>/.strongroom/<installId>/<workflowId>/secrets.json`, the format Nextflow's
//! `LocalSecretsProvider` reads through `NXF_SECRETS_FILE`: a JSON array of `{name, value}`.
//! The launch command's log is `launch.log` beside it. Guarantees:
//! - the work directory is under a root the instance administrator allowed (`host::HpcHost`);
//! - `.strongroom`, the install's directory and the run directory are mode 0700, the store and
//!   the log 0600, owned by the launch account when the target has a launch command (it reads
//!   the store) and Strongroom runs as root; the store is created with its mode *before* any byte
//!   is written, then renamed into place, so a reader never sees a partial file;
//! - every step below the work root goes through directory handles without following a link
//!   (`safe_fs`): a link where a directory or store should be is refused or left alone, never
//!   followed, so a run cannot make Strongroom read, write or delete anything outside;
//! - only this install's directory is listed, so two installs sharing a work directory never
//!   touch each other's stores;
//! - cleanup removes the store, temporary files, the launch log and the `.nf-*.secrets` files
//!   Nextflow writes beside it, then the run directory.
//!
//! Messages name paths relative to the work directory only, never other host paths.

pub mod host;
pub mod safe_fs;
mod store_file;

use super::{CopySpec, CreatedCopy, ManagedCopy, PreflightFailure, ProviderError, SecretStore};
use crate::crypto::SecretBytes;
use async_trait::async_trait;
use host::HpcHost;
use safe_fs::{Kind, Owner};
use secrecy::ExposeSecret;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store_file::{read_store, remove_run_dir, write_store, Entry};
use zeroize::Zeroizing;

/// The directory under the work directory that holds each install's run directories.
pub const RUNS_DIR: &str = ".strongroom";
pub const STORE_FILE: &str = "secrets.json";
pub const LAUNCH_LOG: &str = "launch.log";

pub struct HpcStore {
    /// The allowed root the work directory lies under: the one path opened by name.
    root: PathBuf,
    work_dir: PathBuf,
    install_id: String,
    /// Who owns the run's directory and files (the launch account), when not Strongroom.
    owner: Option<Owner>,
    /// The host's launch rules, for the preflight of a target with a launch command.
    host: Arc<HpcHost>,
    has_command: bool,
}

fn is_workflow_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl HpcStore {
    /// Opens the store of an environment, checking again that its work directory is allowed.
    pub fn open(
        config: &app::model::ComputeConfig,
        install_id: &str,
        host: &Arc<HpcHost>,
    ) -> Result<HpcStore, ProviderError> {
        let (root, work_dir) = host
            .check_work_dir(config.work_dir.as_deref().unwrap_or_default())
            .map_err(|message| ProviderError::Rejected(format!("The compute environment's {message}")))?;
        if install_id.is_empty() || !install_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ProviderError::Rejected("this install's id cannot name a directory".into()));
        }
        let has_command = config.launch_command.as_deref().is_some_and(|c| !c.trim().is_empty());
        Ok(HpcStore {
            root,
            work_dir,
            install_id: install_id.into(),
            owner: host.store_owner(has_command),
            host: host.clone(),
            has_command,
        })
    }

    pub fn work_dir(&self) -> &std::path::Path {
        &self.work_dir
    }

    /// The per-run directory as a path (for `NXF_SECRETS_FILE`); the id can never climb out.
    fn run_path(&self, workflow_id: &str) -> Result<PathBuf, ProviderError> {
        check_workflow_id(workflow_id)?;
        Ok(self.work_dir.join(RUNS_DIR).join(&self.install_id).join(workflow_id))
    }

    pub fn store_path(&self, workflow_id: &str) -> Result<PathBuf, ProviderError> {
        Ok(self.run_path(workflow_id)?.join(STORE_FILE))
    }

    /// The install's directory (`.strongroom/<installId>`), created 0700 if `create`.
    fn install_dir(&self, create: bool) -> Result<Option<OwnedFd>, ProviderError> {
        let work = match safe_fs::open_work_dir(&self.root, &self.work_dir, create) {
            Ok(dir) => dir,
            Err(e) if !create && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("open", "the work directory", e)),
        };
        if create {
            let runs = safe_fs::private_dir(&work, RUNS_DIR, self.owner)
                .map_err(|e| io_error("create", RUNS_DIR, e))?;
            let install = safe_fs::private_dir(&runs, &self.install_id, self.owner)
                .map_err(|e| io_error("create", "this install's directory in .strongroom", e))?;
            return Ok(Some(install));
        }
        let Some(runs) = safe_fs::open_dir(&work, RUNS_DIR).map_err(|e| io_error("open", RUNS_DIR, e))?
        else {
            return Ok(None);
        };
        safe_fs::open_dir(&runs, &self.install_id)
            .map_err(|e| io_error("open", "this install's directory", e))
    }

    /// The run directory, created 0700 (owned by the launch account) if absent.
    fn run_dir(&self, workflow_id: &str) -> Result<OwnedFd, ProviderError> {
        check_workflow_id(workflow_id)?;
        let install = self.install_dir(true)?.expect("created");
        safe_fs::private_dir(&install, workflow_id, self.owner)
            .map_err(|e| io_error("create", "the run directory", e))
    }

    /// Opens (creating) the run's launch log: 0600, owned by the launch account, never a link.
    pub fn open_launch_log(&self, workflow_id: &str) -> Result<(std::fs::File, PathBuf), ProviderError> {
        let dir = self.run_dir(workflow_id)?;
        let file = safe_fs::append_private_file(&dir, LAUNCH_LOG, self.owner)
            .map_err(|e| io_error("open", "the launch log", e))?;
        Ok((file, self.run_path(workflow_id)?.join(LAUNCH_LOG)))
    }
}

fn check_workflow_id(workflow_id: &str) -> Result<(), ProviderError> {
    if is_workflow_id(workflow_id) {
        Ok(())
    } else {
        Err(ProviderError::Rejected(format!("'{workflow_id}' is not a workflow id")))
    }
}

/// How many store locks there are: a fixed set, so the locks take the same memory however many
/// runs and work directories a hostile admin makes up.
const STORE_LOCKS: usize = 64;

/// The lock of a store, so concurrent copies of one run do not lose each other's entries. Stores
/// share one of `STORE_LOCKS` locks by a hash of their path: two stores may wait for each other
/// (writes take milliseconds), one store never has two locks.
fn lock_for(key: PathBuf) -> &'static Mutex<()> {
    static LOCKS: [Mutex<()>; STORE_LOCKS] = [const { Mutex::new(()) }; STORE_LOCKS];
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&key, &mut hasher);
    let slot = std::hash::Hasher::finish(&hasher) % STORE_LOCKS as u64;
    &LOCKS[usize::try_from(slot).expect("below STORE_LOCKS")]
}

/// An I/O failure, naming what failed inside the work directory (never a host path).
pub(super) fn io_error(what: &str, place: &str, error: std::io::Error) -> ProviderError {
    let message = format!("could not {what} {place}: {}", plain(&error));
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => {
            ProviderError::Denied { permission: "write access to the work directory".into(), message }
        }
        std::io::ErrorKind::NotADirectory => ProviderError::Rejected(message),
        _ => ProviderError::Unavailable(message),
    }
}

/// The error's kind in words, without the OS message (which may carry a path).
pub(super) fn plain(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotADirectory => "it is not a real directory (a link or a file)".into(),
        std::io::ErrorKind::Other => error.to_string(),
        kind => kind.to_string(),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ProviderError> + Send + 'static,
) -> Result<T, ProviderError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ProviderError::Unavailable(format!("file task failed: {e}")))?
}

impl HpcStore {
    fn handle(&self) -> HpcStore {
        HpcStore {
            root: self.root.clone(),
            work_dir: self.work_dir.clone(),
            install_id: self.install_id.clone(),
            owner: self.owner,
            host: self.host.clone(),
            has_command: self.has_command,
        }
    }

    fn upsert(&self, workflow_id: &str, name: &str, value: Zeroizing<String>) -> Result<(), ProviderError> {
        let lock = lock_for(self.run_path(workflow_id)?);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let run = self.run_dir(workflow_id)?;
        let mut entries = read_store(&run)?;
        entries.retain(|e| e.name != name);
        entries.push(Entry { name: name.to_owned(), value });
        write_store(&run, &entries, self.owner)
    }

    fn remove_entry(&self, workflow_id: &str, name: &str) -> Result<(), ProviderError> {
        let lock = lock_for(self.run_path(workflow_id)?);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let Some(install) = self.install_dir(false)? else { return Ok(()) };
        let run = match safe_fs::open_dir(&install, workflow_id) {
            Ok(Some(run)) => run,
            Ok(None) => return Ok(()),
            // A link in place of the run directory holds no copy of ours.
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(()),
            Err(e) => return Err(io_error("open", "the run directory", e)),
        };
        let mut entries = read_store(&run)?;
        let before = entries.len();
        entries.retain(|e| e.name != name);
        if entries.len() == before {
            return Ok(());
        }
        write_store(&run, &entries, self.owner)
    }

    fn finish(&self, workflow_id: &str) -> Result<(), ProviderError> {
        let lock = lock_for(self.run_path(workflow_id)?);
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        match self.install_dir(false)? {
            Some(install) => remove_run_dir(&install, workflow_id),
            None => Ok(()),
        }
    }

    fn list(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let Some(install) = self.install_dir(false)? else { return Ok(Vec::new()) };
        let listing = safe_fs::list(&install).map_err(|e| io_error("list", "this install's directory", e))?;
        let mut found = Vec::new();
        for (workflow_id, kind) in listing {
            // Links, files and foreign names are not run directories of ours.
            if kind != Kind::Dir || !is_workflow_id(&workflow_id) {
                continue;
            }
            let names: Vec<String> = match safe_fs::open_dir(&install, &workflow_id) {
                Ok(Some(run)) => match read_store(&run) {
                    Ok(entries) => entries.into_iter().map(|e| e.name).collect(),
                    Err(_) => Vec::new(),
                },
                _ => continue,
            };
            // A run directory with no readable entries is still this install's leftover:
            // it is reported with an empty name so the reconciler finishes its cleanup.
            if names.is_empty() {
                found.push(ManagedCopy { workflow_id: workflow_id.clone(), name: String::new() });
            }
            found
                .extend(names.into_iter().map(|name| ManagedCopy { workflow_id: workflow_id.clone(), name }));
        }
        Ok(found)
    }

    fn probe(&self) -> Result<(), ProviderError> {
        let probe_id = format!("preflight{}", uuid::Uuid::new_v4().simple());
        let result = (|| {
            let run = self.run_dir(&probe_id)?;
            write_store(&run, &[], self.owner)?;
            let dir_mode = rustix::fs::fstat(&run)
                .map_err(|e| io_error("inspect", "the probe directory", e.into()))?
                .st_mode;
            let file = safe_fs::open_file(&run, STORE_FILE)
                .map_err(|e| io_error("inspect", "the probe store", e))?
                .ok_or_else(|| ProviderError::Unavailable("the probe store vanished".into()))?;
            if dir_mode & 0o777 != 0o700 || file.mode & 0o777 != 0o600 {
                return Err(ProviderError::Rejected(format!(
                    "the file system does not keep the modes Strongroom sets (directory {:o}, file {:o})",
                    dir_mode & 0o777,
                    file.mode & 0o777
                )));
            }
            Ok(())
        })();
        if let Ok(Some(install)) = self.install_dir(false) {
            let _ = remove_run_dir(&install, &probe_id);
        }
        result
    }
}

#[async_trait]
impl SecretStore for HpcStore {
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        let path = self.store_path(copy.workflow_id)?;
        let text = std::str::from_utf8(value.expose_secret())
            .map_err(|_| ProviderError::Rejected(format!("the value of {} is not UTF-8 text", copy.name)))?;
        let value = Zeroizing::new(text.to_owned());
        let (store, workflow_id, name) = (self.handle(), copy.workflow_id.to_owned(), copy.name.to_owned());
        blocking(move || store.upsert(&workflow_id, &name, value)).await?;
        Ok(path.to_string_lossy().into_owned())
    }

    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        check_workflow_id(copy.workflow_id)?;
        let (store, workflow_id, name) = (self.handle(), copy.workflow_id.to_owned(), copy.name.to_owned());
        blocking(move || store.remove_entry(&workflow_id, &name)).await
    }

    async fn prepare_launch(
        &self,
        workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        if copies.is_empty() {
            return Ok(Vec::new());
        }
        let path = self.store_path(workflow_id)?;
        Ok(vec![("NXF_SECRETS_FILE".into(), path.to_string_lossy().into_owned())])
    }

    async fn finish_cleanup(&self, workflow_id: &str) -> Result<(), ProviderError> {
        check_workflow_id(workflow_id)?;
        let (store, workflow_id) = (self.handle(), workflow_id.to_owned());
        blocking(move || store.finish(&workflow_id)).await
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let store = self.handle();
        blocking(move || store.list()).await
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        if self.has_command {
            self.host.launch_as().map_err(|message| PreflightFailure {
                step: "start the launch command as an account that cannot read Strongroom's key".into(),
                message,
                fix: "An instance administrator must set up a launch account (STRONGROOM_LAUNCH_ACCOUNT) \
                      as described in the security section of the README."
                    .into(),
            })?;
        }
        let store = self.handle();
        let work_dir = self.work_dir.clone();
        blocking(move || store.probe()).await.map_err(|error| PreflightFailure {
            step: "write a private secrets file in the work directory".into(),
            message: error.to_string(),
            fix: format!(
                "Make {} exist and writable by the user Strongroom runs as, on a file system that \
                 honours Unix permissions (mode 0700 directories, 0600 files).",
                work_dir.display()
            ),
        })
    }
}

#[cfg(test)]
mod tests;
