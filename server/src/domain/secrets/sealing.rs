//! Where a secret value is encrypted and decrypted: sealing a new value for its row (`seal`,
//! `seal_into`), and opening the stored one for a copy (`Core::open_secret_for_copy`, the
//! provisioning path's only way to a plaintext value).
//!
//! Guarantees: the value is envelope-encrypted under a fresh data key, bound (associated data) to
//! the owner's scope and id, the row id and the version, so a sealed value copied to another row,
//! owner or version does not open. The plaintext lives in `SecretBytes` (zeroed on drop, no
//! `Debug` of the value) and is never logged or put in an error.

use crate::crypto::{Binding, Sealed, SecretBytes, ALGORITHM};
use crate::db::secrets::{self, Owner};
use crate::db::Tx;
use crate::domain::secrets::not_found;
use crate::domain::{internal, Core};
use app::error::AppError;
use secrecy::{ExposeSecret, SecretString};

/// Seals `value` for the secret row `id` at `version`: envelope encryption bound to the owner,
/// the row and the version, so a sealed value moved to another row or version does not open.
pub(crate) fn seal(core: &Core, owner: Owner, id: i64, version: i64, value: &SecretString) -> Sealed {
    let plaintext = SecretBytes::from(value.expose_secret().as_bytes().to_vec());
    core.kek.seal(&plaintext, &Binding::secret(owner.scope(), owner.id(), id, version))
}

/// The row form of a sealed value.
pub(crate) fn as_row(sealed: &Sealed) -> secrets::NewSealed<'_> {
    secrets::NewSealed {
        algorithm: ALGORITHM,
        key_id: &sealed.key_id,
        wrapped_key: &sealed.wrapped_key,
        ciphertext: &sealed.ciphertext,
    }
}

/// Seals `value` into the existing secret row `id` at `version`, inside the caller's
/// transaction.
pub(crate) async fn seal_into(
    core: &Core,
    tx: &mut Tx<'_>,
    owner: Owner,
    id: i64,
    version: i64,
    value: &SecretString,
    now: i64,
) -> Result<(), AppError> {
    let sealed = seal(core, owner, id, version, value);
    if !secrets::store_seal(tx, owner, id, version, as_row(&sealed), now).await.map_err(internal)? {
        return Err(not_found());
    }
    Ok(())
}

impl Core {
    /// Decrypts a secret's current value for a copy. `None` when the secret no longer exists.
    pub(crate) async fn open_secret_for_copy(
        &self,
        owner: Owner,
        secret_id: i64,
    ) -> Result<Option<SecretBytes>, AppError> {
        let Some(row) = secrets::find_sealed(&self.db.pool, owner, secret_id).await.map_err(internal)? else {
            return Ok(None);
        };
        let binding = Binding::secret(owner.scope(), owner.id(), row.id, row.version);
        let sealed = Sealed { key_id: row.key_id, wrapped_key: row.wrapped_key, ciphertext: row.ciphertext };
        self.kek.open(&sealed, &binding).map(Some).map_err(internal)
    }
}
