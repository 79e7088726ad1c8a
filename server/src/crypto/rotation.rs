//! Key rotation: moves every sealed value (secrets, cloud credentials and their kept versions,
//! members' managed credentials) to a new key-encryption key while the server keeps serving.
//! `strongroom keys rotate` runs it.
//!
//! Guarantees:
//! - Only data keys are re-wrapped: values are never decrypted, and nothing is reported but key
//!   ids and counts.
//! - Each batch is one transaction and only updates rows still holding the version and key that
//!   were read, so a value the server replaces meanwhile is never overwritten.
//! - An interrupted rotation resumes where it stopped (rows under the new key are skipped).
//! - The new key becomes active only once no row remains under any other key, and from then on a
//!   server refuses to start with the old key (see `kek_registry`).

use super::{kek_file, kek_registry, Binding, Kek, Sealed};
use crate::config::Config;
use crate::db::key_rotation::{self, RotationRow, SealedTable};
use crate::db::Db;
use anyhow::{bail, Context};
use std::path::Path;

/// Passes over the tables before giving up on rows that keep changing under our feet.
const MAX_PASSES: usize = 20;

/// How much work one run does.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Rows re-wrapped per transaction.
    pub batch_size: i64,
    /// Stop after this many batches (to test resuming an interrupted rotation).
    pub max_batches: Option<u64>,
}

/// What the rotation reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// Both keys check out and the new one is registered as the rotation target.
    Started { old_key_id: &'a str, new_key_id: &'a str },
    /// `done` of the `total` sealed rows are no longer under the old key.
    Rewrapped { done: i64, total: i64 },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stopped at `Limits::max_batches` with `remaining` rows still under the old key.
    Paused { batches: u64, remaining: i64 },
    /// Every row is under the new key, now the active one; the old key is retired.
    Finished { old_key_id: String, new_key_id: String },
}

/// Rotates from the configured key to the key in `new_key_file`, on the configured database.
pub async fn rotate(
    config: &Config,
    new_key_file: &Path,
    limits: Limits,
    now: i64,
    mut report: impl FnMut(Progress),
) -> anyhow::Result<Outcome> {
    let old = Kek::new(kek_file::load_existing(config).context("could not load the current key")?);
    let new = Kek::new(
        kek_file::load(new_key_file)
            .with_context(|| format!("could not load the new key from {}", new_key_file.display()))?,
    );
    if old.id() == new.id() {
        bail!("the new key file holds the key already in use (key id {}); make a new one", new.id());
    }
    let db = Db::connect(&config.database_url()).await?;
    let pool = &db.pool;

    kek_registry::check_current(pool, &old).await?;
    let new_record = kek_registry::check_new(pool, &new).await?;
    refuse_foreign_keys(pool, &old, &new).await?;
    kek_registry::register_target(pool, &new, new_record.as_ref(), now).await?;
    report(Progress::Started { old_key_id: old.id(), new_key_id: new.id() });

    let mut batches = 0u64;
    report(progress(pool, &old).await?);
    for _pass in 0..MAX_PASSES {
        for table in SealedTable::ALL {
            let mut after_id = 0;
            loop {
                if limits.max_batches.is_some_and(|max| batches >= max) {
                    let remaining = key_rotation::count_under(pool, old.id()).await?;
                    return Ok(Outcome::Paused { batches, remaining });
                }
                let rows =
                    key_rotation::next_batch(pool, table, old.id(), after_id, limits.batch_size).await?;
                let Some(last) = rows.last() else { break };
                after_id = last.id;
                rewrap_batch(&db, table, &rows, &old, &new).await?;
                batches += 1;
                report(progress(pool, &old).await?);
            }
        }
        // Activation re-counts the rows under other keys in its own transaction: a row the
        // server sealed under the old key since this pass read the table keeps the old key active.
        if key_rotation::activate(&db, new.id()).await? == 0 {
            return Ok(Outcome::Finished {
                old_key_id: old.id().to_string(),
                new_key_id: new.id().to_string(),
            });
        }
    }
    bail!("secrets kept changing while they were re-wrapped; run the same command again to finish")
}

/// Rows under a third key cannot be moved with these two keys, and activating the new key would
/// leave them unreadable.
async fn refuse_foreign_keys(pool: &sqlx::AnyPool, old: &Kek, new: &Kek) -> anyhow::Result<()> {
    let foreign: Vec<String> = key_rotation::rows_per_key(pool)
        .await?
        .into_iter()
        .filter(|(id, _)| id != old.id() && id != new.id())
        .map(|(id, n)| format!("{n} under key id {id}"))
        .collect();
    if !foreign.is_empty() {
        bail!(
            "some secrets are sealed under a key that is neither the current nor the new one ({}); \
             load that key as the current key (STRONGROOM_KEY_FILE) to move them first",
            foreign.join(", ")
        );
    }
    Ok(())
}

/// Re-wraps one batch of `table` in one transaction.
async fn rewrap_batch(
    db: &Db,
    table: SealedTable,
    rows: &[RotationRow],
    old: &Kek,
    new: &Kek,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for row in rows {
        let sealed = Sealed {
            key_id: row.key_id.clone(),
            wrapped_key: row.wrapped_key.clone(),
            ciphertext: row.ciphertext.clone(),
        };
        let moved = old
            .rewrap(new, &sealed, &binding_of(table, row)?)
            .with_context(|| format!("could not re-wrap {table:?} row {}", row.id))?;
        // A row updated or deleted since it was read is left for the next pass.
        key_rotation::store_rewrapped(
            &mut tx,
            table,
            row.id,
            row.version,
            old.id(),
            new.id(),
            &moved.wrapped_key,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The binding the row was sealed with: a secret is bound to its workspace or user, credentials
/// (and their kept versions) to their workspace, managed credentials to their identity and member.
fn binding_of(table: SealedTable, row: &RotationRow) -> anyhow::Result<Binding<'_>> {
    let owner_id = match (table, row.scope.as_str()) {
        (SealedTable::Secrets, "workspace") => row.workspace_id,
        (SealedTable::Secrets, "user") => row.user_id,
        (SealedTable::Secrets, _) => None,
        (SealedTable::Credentials | SealedTable::CredentialVersions, _) => row.workspace_id,
        (SealedTable::ManagedCredentials, _) => row.user_id,
    }
    .with_context(|| format!("{table:?} row {} has no owner for its scope {}", row.id, row.scope))?;
    Ok(match table {
        SealedTable::Secrets => Binding::secret(&row.scope, owner_id, row.item_id, row.version),
        SealedTable::Credentials | SealedTable::CredentialVersions => {
            Binding::credentials(owner_id, row.item_id, row.version)
        }
        SealedTable::ManagedCredentials => {
            let identity_id = row
                .identity_id
                .with_context(|| format!("managed credentials row {} has no identity", row.id))?;
            Binding::managed_credentials(identity_id, owner_id, row.item_id, row.version)
        }
    })
}

/// Sealed rows (secrets, credentials, managed credentials) no longer under the old key, of all of them.
async fn progress(pool: &sqlx::AnyPool, old: &Kek) -> anyhow::Result<Progress<'static>> {
    let total = key_rotation::count_all(pool).await?;
    Ok(Progress::Rewrapped { done: total - key_rotation::count_under(pool, old.id()).await?, total })
}
