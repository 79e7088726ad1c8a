//! Workspace SSH credentials (Seqera's `SSHSecurityKeys`: `privateKey`, `passphrase`): checked
//! exactly as a member's own cluster credentials are (`identities::ssh_key`: decoded with its
//! passphrase by the SSH provider's parser, so a launch never finds out too late that the key
//! cannot be used), then split into what may be shown (the public key's fingerprint) and what is
//! sealed (both fields). No message quotes the key or the passphrase.

use super::credentials_input::CheckedKeys;
use crate::domain::identities::ssh_key;
use app::error::AppError;
use app::model::{CloudProvider, CredentialsPublic};
use app::ports::SshKeysInput;
use secrecy::SecretString;

pub(crate) fn check_ssh(
    private_key: Option<SecretString>,
    passphrase: Option<SecretString>,
) -> Result<CheckedKeys, AppError> {
    let Some(private_key) = private_key else {
        return Err(AppError::bad_request(
            "Give the SSH private key (the contents of a file such as ~/.ssh/id_ed25519).",
        ));
    };
    let checked = ssh_key::check(&SshKeysInput { private_key, passphrase })?;
    Ok(CheckedKeys {
        provider: CloudProvider::Ssh,
        public: CredentialsPublic {
            ssh_key_fingerprint: checked.fingerprint,
            ..CredentialsPublic::default()
        },
        sealed_document: checked.sealed_document,
    })
}
