//! The run directory's files on the cluster: the Nextflow store (read, rewritten whole), the
//! launch files, cleanup and the listing the reconciler reads. Callers hold the run's lock.
//!
//! Writing goes only into directories that pass `sftp::private_dir` (created or found 0700 and
//! owned by the account). Deleting and listing only look inside directories owned by the
//! account: a directory someone else owns cannot hold anything we wrote, so it is left alone.

use super::connect::Connection;
use super::errors::SshError;
use super::layout::{self, Layout, STORE_FILE};
use super::sftp::Sftp;
use crate::providers::ManagedCopy;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The largest store read back (200 secrets of 64 KiB, with room for JSON escapes).
const STORE_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
pub struct StoreEntry {
    pub name: String,
    pub value: Zeroizing<String>,
}

/// Creates (or checks) the directories down to the run directory; returns its path.
pub async fn ensure_run_dir(
    conn: &Connection,
    layout: &Layout,
    workflow_id: &str,
) -> Result<String, SshError> {
    let sftp = conn.sftp().await?;
    for dir in layout.dirs_to_run(workflow_id)? {
        sftp.private_dir(&dir, conn.uid).await?;
    }
    layout.run_dir(workflow_id)
}

/// The run directory when it exists inside directories the account owns; `None` otherwise.
pub async fn existing_run_dir(
    conn: &Connection,
    layout: &Layout,
    workflow_id: &str,
) -> Result<Option<String>, SshError> {
    let sftp = conn.sftp().await?;
    for dir in layout.dirs_to_run(workflow_id)? {
        match sftp.lstat(&dir).await? {
            None => return Ok(None),
            Some(entry) if entry.is_dir() && entry.uid == Some(conn.uid) => {}
            Some(_) => {
                tracing::warn!(path = %dir, "not a directory of the account; nothing of ours is in it");
                return Ok(None);
            }
        }
    }
    Ok(Some(layout.run_dir(workflow_id)?))
}

async fn read_store(sftp: &Sftp, run_dir: &str) -> Result<Vec<StoreEntry>, SshError> {
    let path = format!("{run_dir}/{STORE_FILE}");
    let Some(bytes) = sftp.read_private(&path, STORE_LIMIT).await? else { return Ok(Vec::new()) };
    serde_json::from_slice(&bytes)
        .map_err(|_| SshError::Rejected(format!("{path} is not a Nextflow secrets file; it was left alone")))
}

async fn write_store(sftp: &Sftp, run_dir: &str, entries: &[StoreEntry]) -> Result<(), SshError> {
    let bytes = Zeroizing::new(serde_json::to_vec(entries).map_err(|e| SshError::Rejected(e.to_string()))?);
    sftp.write_private(run_dir, STORE_FILE, &bytes, 0o600).await
}

/// Puts `name` in the run's store (replacing an earlier value of the same name).
pub async fn upsert(
    conn: &Connection,
    layout: &Layout,
    workflow_id: &str,
    name: &str,
    value: &Zeroizing<String>,
) -> Result<(), SshError> {
    let run_dir = ensure_run_dir(conn, layout, workflow_id).await?;
    let sftp = conn.sftp().await?;
    let mut entries = read_store(sftp, &run_dir).await?;
    entries.retain(|e| e.name != name);
    entries.push(StoreEntry { name: name.to_owned(), value: value.clone() });
    write_store(sftp, &run_dir, &entries).await
}

/// Takes `name` out of the run's store; a store or entry that is not there is done.
pub async fn remove_entry(
    conn: &Connection,
    layout: &Layout,
    workflow_id: &str,
    name: &str,
) -> Result<(), SshError> {
    let Some(run_dir) = existing_run_dir(conn, layout, workflow_id).await? else { return Ok(()) };
    let sftp = conn.sftp().await?;
    let mut entries = read_store(sftp, &run_dir).await?;
    let before = entries.len();
    entries.retain(|e| e.name != name);
    if entries.len() == before {
        return Ok(());
    }
    write_store(sftp, &run_dir, &entries).await
}

/// Writes one launch file (token, script, parameters, configuration) into the run directory.
pub async fn write_file(
    conn: &Connection,
    layout: &Layout,
    workflow_id: &str,
    name: &str,
    bytes: &[u8],
    mode: u32,
) -> Result<String, SshError> {
    let run_dir = ensure_run_dir(conn, layout, workflow_id).await?;
    conn.sftp().await?.write_private(&run_dir, name, bytes, mode).await?;
    Ok(format!("{run_dir}/{name}"))
}

/// Reads a small private file of the run (the `job-id` marker); `None` when absent.
pub async fn read_file(
    conn: &Connection,
    layout: &Layout,
    workflow_id: &str,
    name: &str,
) -> Result<Option<String>, SshError> {
    let Some(run_dir) = existing_run_dir(conn, layout, workflow_id).await? else { return Ok(None) };
    let bytes = conn.sftp().await?.read_private(&format!("{run_dir}/{name}"), 4096).await?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
}

/// Removes the run's files and then its directory when nothing else is left in it: the store,
/// interrupted writes, `run-token`, `job-id`, the launch files, Nextflow's `.nf-*.secrets`, and
/// `head.log` too, since the scheduler's log of the head job may quote its environment or what
/// a pre-run script printed. What else the run made stays, and so does the directory then.
pub async fn remove_run(conn: &Connection, layout: &Layout, workflow_id: &str) -> Result<(), SshError> {
    let Some(run_dir) = existing_run_dir(conn, layout, workflow_id).await? else { return Ok(()) };
    let sftp = conn.sftp().await?;
    let Some(listing) = sftp.list(&run_dir).await? else { return Ok(()) };
    for (name, entry) in listing {
        if layout::is_ours(&name) && !entry.is_dir() {
            // Removing a link removes the link, never what it points to.
            sftp.remove_file(&format!("{run_dir}/{name}")).await?;
        }
    }
    sftp.remove_empty_dir(&run_dir).await?;
    Ok(())
}

/// The copies in this install's directory, for the reconciler. A run directory whose store is
/// empty or unreadable is reported with an empty name, so its cleanup still happens.
pub async fn list(conn: &Connection, layout: &Layout) -> Result<Vec<ManagedCopy>, SshError> {
    let sftp = conn.sftp().await?;
    for dir in [layout.account_dir(), layout.install_dir()] {
        match sftp.lstat(&dir).await? {
            Some(entry) if entry.is_dir() && entry.uid == Some(conn.uid) => {}
            _ => return Ok(Vec::new()),
        }
    }
    let install_dir = layout.install_dir();
    let Some(listing) = sftp.list(&install_dir).await? else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for (workflow_id, entry) in listing {
        // Links, files and foreign names are not run directories of ours.
        if !entry.is_dir() || entry.uid != Some(conn.uid) || !layout::is_id(&workflow_id) {
            continue;
        }
        let names: Vec<String> = match read_store(sftp, &format!("{install_dir}/{workflow_id}")).await {
            Ok(entries) => entries.into_iter().map(|e| e.name).collect(),
            Err(e) if e.is_transport() => return Err(e),
            Err(_) => Vec::new(),
        };
        if names.is_empty() {
            found.push(ManagedCopy { workflow_id: workflow_id.clone(), name: String::new() });
        }
        found.extend(names.into_iter().map(|name| ManagedCopy { workflow_id: workflow_id.clone(), name }));
    }
    Ok(found)
}

/// Preflight's write test: a probe run directory with an empty store, its modes checked, then
/// removed (also when a check fails).
pub async fn probe(conn: &Connection, layout: &Layout) -> Result<(), SshError> {
    let probe_id = format!("preflight{}", uuid::Uuid::new_v4().simple());
    let result = async {
        let run_dir = ensure_run_dir(conn, layout, &probe_id).await?;
        let sftp = conn.sftp().await?;
        write_store(sftp, &run_dir, &[]).await?;
        let path = format!("{run_dir}/{STORE_FILE}");
        let stored = sftp.lstat(&path).await?;
        match stored {
            Some(entry)
                if entry.is_regular() && entry.permissions() == 0o600 && entry.uid == Some(conn.uid) =>
            {
                Ok(())
            }
            other => Err(SshError::Rejected(format!(
                "the probe store {path} did not keep mode 0600 and the account as owner (found {})",
                other.map_or("nothing".into(), |e| format!("mode {:04o}", e.permissions()))
            ))),
        }
    }
    .await;
    let removed = remove_run(conn, layout, &probe_id).await;
    result.and(removed)
}
