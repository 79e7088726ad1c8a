//! HPC targets (Slurm, LSF, PBS, local): a Nextflow local secrets store per run.
//!
//! Layout: `<workDir>/.strongroom/<workflowId>/secrets.json`, the format Nextflow's
//! `LocalSecretsProvider` reads through `NXF_SECRETS_FILE`: a JSON array of `{name, value}`.
//! Guarantees:
//! - the run directory (and `.strongroom` above it) is mode 0700, the store mode 0600, and the
//!   store is created with that mode *before* any byte is written (`create_new` + `mode`), then
//!   renamed into place, so a reader never sees a partial file and no one else can ever open it;
//! - a store that is a symlink or has looser modes than 0600 is refused, never followed;
//! - cleanup removes the store, temporary files and the `.nf-*.secrets` files Nextflow writes
//!   beside it, then the run directory.
//!
//! Writers of one store are serialised in this process; two servers sharing a work directory on
//! a cluster file system would need a file lock as well (not done: one server owns a work dir).

use super::{CopySpec, CreatedCopy, ManagedCopy, PreflightFailure, ProviderError, SecretStore};
use crate::crypto::SecretBytes;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use zeroize::Zeroizing;

/// The directory under the work directory that holds the per-run directories.
pub const RUNS_DIR: &str = ".strongroom";
pub const STORE_FILE: &str = "secrets.json";

pub struct HpcStore {
    work_dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    name: String,
    value: Zeroizing<String>,
}

impl HpcStore {
    pub fn from_config(config: &app::model::ComputeConfig) -> Result<HpcStore, ProviderError> {
        let work_dir = config.work_dir.as_deref().unwrap_or_default();
        let work_dir = PathBuf::from(work_dir);
        if !work_dir.is_absolute() {
            return Err(ProviderError::Rejected(
                "The compute environment's work directory must be an absolute path.".into(),
            ));
        }
        Ok(HpcStore { work_dir })
    }

    fn runs_dir(&self) -> PathBuf {
        self.work_dir.join(RUNS_DIR)
    }

    /// The per-run directory; the workflow id is checked so it can never climb out.
    fn run_dir(&self, workflow_id: &str) -> Result<PathBuf, ProviderError> {
        if workflow_id.is_empty() || !workflow_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ProviderError::Rejected(format!("'{workflow_id}' is not a workflow id")));
        }
        Ok(self.runs_dir().join(workflow_id))
    }

    pub fn store_path(&self, workflow_id: &str) -> Result<PathBuf, ProviderError> {
        Ok(self.run_dir(workflow_id)?.join(STORE_FILE))
    }
}

/// One lock per store path, so concurrent copies of one run do not lose each other's entries.
fn lock_for(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    locks.entry(path.to_path_buf()).or_default().clone()
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> ProviderError {
    let message = format!("could not {what} {}: {error}", path.display());
    match error.kind() {
        std::io::ErrorKind::PermissionDenied => {
            ProviderError::Denied { permission: "write access to the work directory".into(), message }
        }
        _ => ProviderError::Unavailable(message),
    }
}

/// Creates `dir` (and missing parents) and makes sure it is a real directory of mode 0700.
fn ensure_private_dir(dir: &Path) -> Result<(), ProviderError> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_error("create", dir, e)),
    }
    let meta = fs::symlink_metadata(dir).map_err(|e| io_error("inspect", dir, e))?;
    if !meta.is_dir() {
        return Err(ProviderError::Rejected(format!("{} is not a directory", dir.display())));
    }
    if meta.mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| io_error("restrict", dir, e))?;
    }
    Ok(())
}

/// Reads a store, refusing one that is a symlink or readable by anyone but its owner.
fn read_store(path: &Path) -> Result<Vec<Entry>, ProviderError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("inspect", path, e)),
    };
    if !meta.is_file() || meta.mode() & 0o077 != 0 {
        return Err(ProviderError::Rejected(format!(
            "{} is not a private regular file (mode 0600); it was left alone",
            path.display()
        )));
    }
    let bytes = Zeroizing::new(fs::read(path).map_err(|e| io_error("read", path, e))?);
    serde_json::from_slice(&bytes)
        .map_err(|_| ProviderError::Rejected(format!("{} is not a Nextflow secrets file", path.display())))
}

/// Writes a store atomically: a new 0600 file beside it, synced, then renamed over it.
fn write_store(path: &Path, entries: &[Entry]) -> Result<(), ProviderError> {
    let mut bytes = Zeroizing::new(Vec::new());
    serde_json::to_writer(&mut *bytes, entries).map_err(|e| ProviderError::Rejected(e.to_string()))?;
    let temp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| io_error("create", &temp, e))?;
    let written = file.write_all(&bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error("write", &temp, e));
    }
    fs::rename(&temp, path).map_err(|e| io_error("replace", path, e))
}

fn upsert(path: &Path, name: &str, value: Zeroizing<String>) -> Result<(), ProviderError> {
    let lock = lock_for(path);
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    ensure_private_dir(path.parent().expect("a store has a run directory"))?;
    let mut entries = read_store(path)?;
    entries.retain(|e| e.name != name);
    entries.push(Entry { name: name.to_owned(), value });
    write_store(path, &entries)
}

fn remove_entry(path: &Path, name: &str) -> Result<(), ProviderError> {
    let lock = lock_for(path);
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let mut entries = read_store(path)?;
    let before = entries.len();
    entries.retain(|e| e.name != name);
    if entries.len() == before {
        return Ok(());
    }
    write_store(path, &entries)
}

/// Removes the store, leftovers of interrupted writes, Nextflow's `.nf-*.secrets` files and the
/// run directory itself when nothing else is in it.
fn remove_run_dir(dir: &Path) -> Result<(), ProviderError> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("list", dir, e)),
    };
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name == STORE_FILE
            || name.starts_with(&format!("{STORE_FILE}.tmp-"))
            || (name.starts_with(".nf-") && name.ends_with(".secrets"));
        if ours {
            match fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("remove", &entry.path(), e)),
            }
        }
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        // Something else the run wrote: the secrets are gone, the rest is the run's business.
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
        Err(e) => Err(io_error("remove", dir, e)),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ProviderError> + Send + 'static,
) -> Result<T, ProviderError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ProviderError::Unavailable(format!("file task failed: {e}")))?
}

#[async_trait]
impl SecretStore for HpcStore {
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        let path = self.store_path(copy.workflow_id)?;
        let text = std::str::from_utf8(value.expose_secret())
            .map_err(|_| ProviderError::Rejected(format!("the value of {} is not UTF-8 text", copy.name)))?;
        let value = Zeroizing::new(text.to_owned());
        let name = copy.name.to_owned();
        let target = path.clone();
        blocking(move || upsert(&target, &name, value)).await?;
        Ok(path.to_string_lossy().into_owned())
    }

    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        let path = self.store_path(copy.workflow_id)?;
        let name = copy.name.to_owned();
        blocking(move || remove_entry(&path, &name)).await
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
        let dir = self.run_dir(workflow_id)?;
        let store = dir.join(STORE_FILE);
        blocking(move || {
            let lock = lock_for(&store);
            let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            remove_run_dir(&dir)
        })
        .await
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        let runs_dir = self.runs_dir();
        blocking(move || {
            let listing = match fs::read_dir(&runs_dir) {
                Ok(listing) => listing,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_error("list", &runs_dir, e)),
            };
            let mut found = Vec::new();
            for dir in listing.flatten() {
                let workflow_id = dir.file_name().to_string_lossy().into_owned();
                if !dir.path().is_dir() || !workflow_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    continue;
                }
                let names: Vec<String> = match read_store(&dir.path().join(STORE_FILE)) {
                    Ok(entries) => entries.into_iter().map(|e| e.name).collect(),
                    Err(_) => Vec::new(),
                };
                // A run directory with no readable entries is still this install's leftover:
                // it is reported with an empty name so the reconciler finishes its cleanup.
                if names.is_empty() {
                    found.push(ManagedCopy { workflow_id: workflow_id.clone(), name: String::new() });
                }
                found.extend(names.into_iter().map(|name| ManagedCopy { workflow_id: workflow_id.clone(), name }));
            }
            Ok(found)
        })
        .await
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        let probe_dir = self.runs_dir().join(format!("preflight{}", uuid::Uuid::new_v4().simple()));
        let work_dir = self.work_dir.clone();
        let outcome = blocking(move || {
            let probe = probe_dir.join(STORE_FILE);
            let result = (|| {
                ensure_private_dir(&probe_dir)?;
                write_store(&probe, &[])?;
                let dir_mode = fs::metadata(&probe_dir).map_err(|e| io_error("inspect", &probe_dir, e))?.mode();
                let file_mode = fs::metadata(&probe).map_err(|e| io_error("inspect", &probe, e))?.mode();
                if dir_mode & 0o777 != 0o700 || file_mode & 0o777 != 0o600 {
                    return Err(ProviderError::Rejected(format!(
                        "the file system does not keep the modes Strongroom sets (directory {:o}, file {:o})",
                        dir_mode & 0o777,
                        file_mode & 0o777
                    )));
                }
                Ok(())
            })();
            let _ = remove_run_dir(&probe_dir);
            result
        })
        .await;
        outcome.map_err(|error| PreflightFailure {
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
