//! Where a member's SSH key is encrypted and decrypted: sealed into its managed credentials row
//! (`seal_into`) and opened for the launch path (`open`, called by `for_launch` only).
//!
//! Guarantees: the key document is envelope-encrypted under a fresh data key, bound to scope
//! `managed-credentials`, the identity, the member, the row id and the version, so a sealed key
//! moved to another identity, member, row or version does not open. The plaintext lives in
//! `SecretBytes` only and is never logged or put in an error.

use super::ssh_key::CheckedKey;
use crate::crypto::{Binding, Kek, Sealed, SecretBytes, ALGORITHM};
use crate::db::managed_credentials::{self, SealedRow};
use crate::db::Tx;
use crate::domain::internal;
use app::error::AppError;

/// Where a sealed key belongs.
pub(super) struct RowRef {
    pub identity_id: i64,
    pub user_id: i64,
    pub id: i64,
    pub version: i64,
}

/// Seals the checked key into the row at `row.version`, inside the caller's transaction.
pub(super) async fn seal_into(
    kek: &Kek,
    tx: &mut Tx<'_>,
    row: RowRef,
    key: &CheckedKey,
    now: i64,
) -> Result<(), AppError> {
    let binding = Binding::managed_credentials(row.identity_id, row.user_id, row.id, row.version);
    let sealed = kek.seal(&key.sealed_document, &binding);
    let new = managed_credentials::NewSealed {
        algorithm: ALGORITHM,
        key_id: &sealed.key_id,
        wrapped_key: &sealed.wrapped_key,
        ciphertext: &sealed.ciphertext,
    };
    let stored = managed_credentials::store_seal(
        tx,
        row.identity_id,
        row.user_id,
        row.id,
        row.version,
        key.fingerprint.as_deref(),
        new,
        now,
    )
    .await
    .map_err(internal)?;
    if !stored {
        return Err(AppError::not_found("Managed credentials"));
    }
    Ok(())
}

/// Decrypts a row's key document (Seqera's `SSHSecurityKeys` JSON).
pub(super) fn open(kek: &Kek, row: SealedRow) -> anyhow::Result<SecretBytes> {
    let binding = Binding::managed_credentials(row.identity_id, row.user_id, row.id, row.version);
    let sealed = Sealed { key_id: row.key_id, wrapped_key: row.wrapped_key, ciphertext: row.ciphertext };
    kek.open(&sealed, &binding)
        .map_err(|e| anyhow::anyhow!("managed credentials {} do not open: {e}", row.id))
}
