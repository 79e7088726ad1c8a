//! The registry of key-encryption keys a database knows (`encryption_keys`, by id and check value,
//! never the key) and the rules on it: which key is current, which keys may start a server, and
//! when a rotation target takes over.
//!
//! Guarantees:
//! - The first start records the key's id and check value; every later start must present a key
//!   whose check value matches a recorded one that is usable, or the server refuses to start with
//!   a message that says what to do (and names key ids only).
//! - Usable keys: the active key, and the target of a key rotation in progress (registered by
//!   `strongroom keys rotate`, which re-wraps every row under it and then makes it active). A key
//!   that a finished rotation retired is refused, so a server cannot come back with the old key
//!   and seal new values under it. Before a rotation finishes, the old (still active) key works as
//!   before; the values a server started with the target key seals are already under the target.
//! - At most one rotation target at a time, and the active key is never demoted to a target.
//!   The target becomes active in the same transaction that finds no sealed row left under any
//!   other key (`db::key_rotation::activate`, run by `rotation`).

use super::Kek;
use crate::db::encryption_keys::{self, KeyRecord, KeyState};
use crate::db::Db;
use anyhow::bail;
use sqlx::AnyPool;

/// At startup: accepts a usable registered key, registers the key of a new database, and refuses
/// any other key.
pub async fn verify_or_register(db: &Db, kek: &Kek, now: i64) -> anyhow::Result<()> {
    match encryption_keys::find_key(&db.pool, kek.id()).await? {
        Some(recorded) if recorded.check_value != kek.check_value() => {
            bail!("the key's check value does not match the one recorded for key {}", kek.id())
        }
        Some(recorded) if recorded.state != KeyState::Retired => Ok(()),
        Some(_) => {
            let expected = encryption_keys::active_key_id(&db.pool).await?.unwrap_or_default();
            bail!(
                "the key (key id {}) was retired by a key rotation; this database is now encrypted with \
                 key id {expected}. Point STRONGROOM_KEY_FILE (or STRONGROOM_KEY) at the new key; \
                 refusing to start",
                kek.id()
            )
        }
        None if encryption_keys::count(&db.pool).await? == 0 => {
            encryption_keys::register_active(&db.pool, kek.id(), &kek.check_value(), now).await?;
            tracing::info!(key_id = kek.id(), "registered the key-encryption key");
            Ok(())
        }
        None => {
            let expected = encryption_keys::active_key_id(&db.pool).await?.unwrap_or_default();
            bail!(
                "the key (key id {}) is not the key this database is encrypted with (key id \
                 {expected}). Point STRONGROOM_KEY_FILE (or STRONGROOM_KEY) at the right key; \
                 refusing to start",
                kek.id()
            )
        }
    }
}

/// The rotation's current key must be registered with this exact key (same check value).
pub async fn check_current(pool: &AnyPool, kek: &Kek) -> anyhow::Result<()> {
    check_recorded(encryption_keys::find_key(pool, kek.id()).await?, kek, "current").map(|_| ())
}

/// The rotation's new key: `None` if the database does not know it yet, else its record, which
/// must hold this exact key. Refuses while a rotation to another key is in progress.
pub async fn check_new(pool: &AnyPool, new: &Kek) -> anyhow::Result<Option<KeyRecord>> {
    let record = encryption_keys::find_key(pool, new.id()).await?;
    if record.is_some() {
        check_recorded(record.clone(), new, "new")?;
    }
    let other_targets: Vec<String> = encryption_keys::keys_in_state(pool, KeyState::RotationTarget)
        .await?
        .into_iter()
        .map(|k| k.key_id)
        .filter(|id| id != new.id())
        .collect();
    if !other_targets.is_empty() {
        bail!(
            "a rotation to another key (key id {}) is in progress; finish it with that key file first",
            other_targets.join(", ")
        );
    }
    Ok(record)
}

/// Makes `new` the rotation target, unless it is already the active key (a finished rotation run
/// again), which is never demoted.
pub async fn register_target(
    pool: &AnyPool,
    new: &Kek,
    record: Option<&KeyRecord>,
    now: i64,
) -> anyhow::Result<()> {
    if record.is_none_or(|k| k.state != KeyState::Active) {
        encryption_keys::register_target(pool, new.id(), &new.check_value(), now).await?;
    }
    Ok(())
}

fn check_recorded(record: Option<KeyRecord>, kek: &Kek, which: &str) -> anyhow::Result<KeyRecord> {
    match record {
        Some(record) if record.check_value == kek.check_value() => Ok(record),
        Some(_) => {
            bail!("the {which} key's check value does not match the one recorded for key id {}", kek.id())
        }
        None => bail!(
            "the {which} key (key id {}) is not a key of this database; check STRONGROOM_KEY_FILE / \
             STRONGROOM_KEY and DATABASE_URL",
            kek.id()
        ),
    }
}
