//! Ties the key to the database: the first start records the key's id and check value; every
//! later start must present a key whose check value matches a recorded one that is usable, or the
//! server refuses to start with a message that says what to do.
//!
//! Usable keys: the active key, and the target of a key rotation in progress (registered by
//! `strongroom keys rotate`, which re-wraps every row under it and then makes it active). A key
//! that a finished rotation retired is refused, so a server cannot come back with the old key and
//! seal new values under it. Before a rotation finishes, the old (still active) key works as
//! before; the values a server started with the target key seals are already under the target.

use super::Kek;
use crate::db::key_rotation::{self, ACTIVE, ROTATION_TARGET};
use crate::db::{encryption_keys, Db};
use anyhow::bail;

pub async fn verify_or_register(db: &Db, kek: &Kek, now: i64) -> anyhow::Result<()> {
    match key_rotation::find_key(&db.pool, kek.id()).await? {
        Some(recorded) if recorded.check_value != kek.check_value() => {
            bail!("the key's check value does not match the one recorded for key {}", kek.id())
        }
        Some(recorded) if recorded.active == ACTIVE || recorded.active == ROTATION_TARGET => Ok(()),
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
