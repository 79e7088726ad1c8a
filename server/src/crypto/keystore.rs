//! Ties the key file to the database: the first start records the key's id and check value; every
//! later start must present a key whose check value matches a recorded one, or the server refuses
//! to start with a message that says what to do.

use super::Kek;
use crate::db::{encryption_keys, Db};
use anyhow::bail;

pub async fn verify_or_register(db: &Db, kek: &Kek, now: i64) -> anyhow::Result<()> {
    match encryption_keys::check_value(&db.pool, kek.id()).await? {
        Some(recorded) if recorded == kek.check_value() => Ok(()),
        Some(_) => bail!("the key file's check value does not match the one recorded for key {}", kek.id()),
        None if encryption_keys::count(&db.pool).await? == 0 => {
            encryption_keys::register_active(&db.pool, kek.id(), &kek.check_value(), now).await?;
            tracing::info!(key_id = kek.id(), "registered the key-encryption key");
            Ok(())
        }
        None => {
            let expected = encryption_keys::active_key_id(&db.pool).await?.unwrap_or_default();
            bail!(
                "the key file (key id {}) is not the key this database is encrypted with (key id \
                 {expected}). Point STRONGROOM_KEY_FILE at the right key file; refusing to start",
                kek.id()
            )
        }
    }
}
