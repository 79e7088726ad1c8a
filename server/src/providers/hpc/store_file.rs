//! The run directory's files: the store (read, written atomically), and what cleanup removes.
//! Every operation is relative to the run directory's handle and never follows a link.

use super::safe_fs::{self, Owner};
use super::{io_error, plain, ProviderError, LAUNCH_LOG, STORE_FILE};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use zeroize::Zeroizing;

/// Temporary stores are `secrets.json.tmp-<uuid>`; `secrets.tmp-` is what older versions made.
const TEMP_PREFIXES: [&str; 2] = ["secrets.json.tmp-", "secrets.tmp-"];

#[derive(Serialize, Deserialize)]
pub(super) struct Entry {
    pub name: String,
    pub value: Zeroizing<String>,
}

/// Reads the run's store, refusing one that is a link or readable by anyone but its owner.
pub(super) fn read_store(run: &OwnedFd) -> Result<Vec<Entry>, ProviderError> {
    let opened = match safe_fs::open_file(run, STORE_FILE) {
        Ok(Some(opened)) => opened,
        Ok(None) => return Ok(Vec::new()),
        Err(e) => {
            return Err(ProviderError::Rejected(format!(
                "the run's {STORE_FILE} was left alone: {}",
                plain(&e)
            )))
        }
    };
    if !opened.is_regular || opened.mode & 0o077 != 0 {
        return Err(ProviderError::Rejected(format!(
            "the run's {STORE_FILE} is not a private regular file (mode 0600); it was left alone"
        )));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    let mut file = opened.file;
    file.read_to_end(&mut bytes).map_err(|e| io_error("read", "the run's store", e))?;
    serde_json::from_slice(&bytes).map_err(|_| {
        ProviderError::Rejected(format!("the run's {STORE_FILE} is not a Nextflow secrets file"))
    })
}

/// Writes the store atomically: a new 0600 file beside it, synced, then renamed over it.
pub(super) fn write_store(
    run: &OwnedFd,
    entries: &[Entry],
    owner: Option<Owner>,
) -> Result<(), ProviderError> {
    let mut bytes = Zeroizing::new(Vec::new());
    serde_json::to_writer(&mut *bytes, entries).map_err(|e| ProviderError::Rejected(e.to_string()))?;
    let temp = format!("{}{}", TEMP_PREFIXES[0], uuid::Uuid::new_v4().simple());
    let mut file = safe_fs::create_private_file(run, &temp, owner)
        .map_err(|e| io_error("create", "a temporary store", e))?;
    let written = file.write_all(&bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = safe_fs::remove_file(run, &temp);
        return Err(io_error("write", "a temporary store", e));
    }
    if let Err(e) = safe_fs::rename_in(run, &temp, STORE_FILE) {
        let _ = safe_fs::remove_file(run, &temp);
        return Err(io_error("replace", "the run's store", e));
    }
    Ok(())
}

fn is_ours(name: &str) -> bool {
    name == STORE_FILE
        || name == LAUNCH_LOG
        || TEMP_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || (name.starts_with(".nf-") && name.ends_with(".secrets"))
}

/// Removes the store, leftovers of interrupted writes, the launch log, Nextflow's `.nf-*.secrets`
/// files and the run directory itself when nothing else is in it. A run directory that is a
/// link (or a file) is left alone: nothing of ours can be behind it.
pub(super) fn remove_run_dir(install: &OwnedFd, workflow_id: &str) -> Result<(), ProviderError> {
    let run = match safe_fs::open_dir(install, workflow_id) {
        Ok(Some(run)) => run,
        Ok(None) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            tracing::warn!(workflow_id, "a run directory is a link or a file; it was left alone");
            return Ok(());
        }
        Err(e) => return Err(io_error("open", "the run directory", e)),
    };
    let listing = safe_fs::list(&run).map_err(|e| io_error("list", "the run directory", e))?;
    for (name, _) in listing.iter().filter(|(name, _)| is_ours(name)) {
        // Unlinking a link removes the link, never what it points to.
        safe_fs::remove_file(&run, name).map_err(|e| io_error("remove", "a file of the run", e))?;
    }
    // Something else the run wrote stays: the secrets are gone, the rest is the run's business.
    safe_fs::remove_empty_dir(install, workflow_id)
        .map_err(|e| io_error("remove", "the run directory", e))?;
    Ok(())
}
