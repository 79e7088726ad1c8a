//! `strongroom keys rotate`: moves every secret and every set of cloud credentials to a new
//! key-encryption key while the server keeps serving.
//!
//! Guarantees: only data keys are re-wrapped (values are never decrypted, and nothing is printed
//! but key ids and counts); each batch is one transaction and only updates rows still holding the
//! version and key that were read, so a value the server replaces meanwhile is never overwritten;
//! an interrupted rotation resumes where it stopped (rows under the new key are skipped); the new
//! key becomes active only once no row remains under any other key, and from then on a server
//! refuses to start with the old key (see `crypto::kek_registry`).

use super::{KeysCommand, RotateKeys};
use crate::config::Config;
use crate::crypto::{kek_file, kek_registry, Binding, Kek, Sealed};
use crate::db::key_rotation::{self, RotationRow, SealedTable};
use crate::db::Db;
use crate::services::now_ms;
use anyhow::{bail, Context};

/// Passes over the table before giving up on rows that keep changing under our feet.
const MAX_PASSES: usize = 20;

pub async fn run_keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate(args) => rotate(config, args).await,
    }
}

async fn rotate(config: &Config, args: RotateKeys) -> anyhow::Result<()> {
    let old = Kek::new(kek_file::load_existing(config).context("could not load the current key")?);
    let new = Kek::new(
        kek_file::load(&args.new_key_file)
            .with_context(|| format!("could not load the new key from {}", args.new_key_file.display()))?,
    );
    if old.id() == new.id() {
        bail!("the new key file holds the key already in use (key id {}); make a new one", new.id());
    }
    let db = Db::connect(&config.database_url()).await?;
    let pool = &db.pool;

    kek_registry::check_current(pool, &old).await?;
    let new_record = kek_registry::check_new(pool, &new).await?;
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
    kek_registry::register_target(pool, &new, new_record.as_ref(), now_ms()).await?;
    eprintln!("Rotating from key id {} to key id {}.", old.id(), new.id());

    let mut batches = 0u64;
    print_progress(pool, old.id()).await?;
    for _pass in 0..MAX_PASSES {
        for table in SealedTable::ALL {
            let mut after_id = 0;
            loop {
                if args.max_batches.is_some_and(|max| batches >= max) {
                    println!(
                        "Stopped after {batches} batches; {} secrets and credentials remain under the old \
                         key. Run the same command again to continue.",
                        key_rotation::count_under(pool, old.id()).await?
                    );
                    return Ok(());
                }
                let rows = key_rotation::next_batch(pool, table, old.id(), after_id, args.batch_size).await?;
                let Some(last) = rows.last() else { break };
                after_id = last.id;
                rewrap_batch(&db, table, &rows, &old, &new).await?;
                batches += 1;
                print_progress(pool, old.id()).await?;
            }
        }
        if kek_registry::activate(pool, &new).await? == 0 {
            println!(
                "Done: every secret and every set of credentials is under key id {new_id}, now the active \
                 key (key id {old_id} is retired).\nNext: point STRONGROOM_KEY_FILE at {file} (or set STRONGROOM_KEY to its base64) \
                 and restart the server; it now refuses to start with the old key. If a server still \
                 running on the old key stored a secret before that restart, run this command again: it \
                 moves the stragglers. Keep the old key as long as you keep database backups taken \
                 before now.",
                new_id = new.id(),
                old_id = old.id(),
                file = args.new_key_file.display(),
            );
            return Ok(());
        }
    }
    bail!("secrets kept changing while they were re-wrapped; run the same command again to finish")
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
        let owner_id = row
            .owner_id()
            .with_context(|| format!("{table:?} row {} has no owner for its scope {}", row.id, row.scope))?;
        let binding = match table {
            SealedTable::Secrets => Binding::secret(&row.scope, owner_id, row.item_id, row.version),
            SealedTable::Credentials | SealedTable::CredentialVersions => {
                Binding::credentials(owner_id, row.item_id, row.version)
            }
        };
        let sealed = Sealed {
            key_id: row.key_id.clone(),
            wrapped_key: row.wrapped_key.clone(),
            ciphertext: row.ciphertext.clone(),
        };
        let moved = old
            .rewrap(new, &sealed, &binding)
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

/// Prints `re-wrapped N of M`: sealed rows (secrets and credentials) no longer under the old key,
/// of all of them.
async fn print_progress(pool: &sqlx::AnyPool, old_key_id: &str) -> anyhow::Result<()> {
    let total = key_rotation::count_all(pool).await?;
    println!("re-wrapped {} of {total}", total - key_rotation::count_under(pool, old_key_id).await?);
    Ok(())
}
