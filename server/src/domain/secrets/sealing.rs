//! Where a secret value is encrypted and decrypted: sealing a new value into its row, and (for
//! the provisioning path) opening a stored one.
//!
//! Guarantees: the value is envelope-encrypted under a fresh data key, bound (associated data) to
//! the owner's scope and id, the row id and the version, so a sealed value copied to another row,
//! owner or version does not open. The plaintext lives in `SecretBytes` (zeroed on drop, no
//! `Debug` of the value) and is never logged or put in an error.

use crate::crypto::{Binding, SecretBytes, ALGORITHM};
use crate::db::secrets::{self, Owner};
use crate::db::Tx;
use crate::domain::secrets::not_found;
use crate::domain::{internal, Core};
use app::error::AppError;
use secrecy::{ExposeSecret, SecretString};

/// Seals `value` into the secret row `id` at `version`, inside the caller's transaction: envelope
/// encryption bound to the owner, the row and the version, so a sealed value moved to another row
/// or version does not open.
pub(crate) async fn seal_into(
    core: &Core,
    tx: &mut Tx<'_>,
    owner: Owner,
    id: i64,
    version: i64,
    value: &SecretString,
    now: i64,
) -> Result<(), AppError> {
    let plaintext = SecretBytes::from(value.expose_secret().as_bytes().to_vec());
    let binding = Binding::secret(owner.scope(), owner.id(), id, version);
    let sealed = core.kek.seal(&plaintext, &binding);
    let row = secrets::NewSealed {
        algorithm: ALGORITHM,
        key_id: &sealed.key_id,
        wrapped_key: &sealed.wrapped_key,
        ciphertext: &sealed.ciphertext,
    };
    if !secrets::store_seal(tx, owner, id, version, row, now).await.map_err(internal)? {
        return Err(not_found());
    }
    Ok(())
}
