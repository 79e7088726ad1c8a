//! Checks an SSH private key given as credentials (Seqera's `SSHSecurityKeys`: `privateKey`,
//! `passphrase`) and splits it into what may be shown (the public key's fingerprint) and what is
//! sealed (both fields, as the JSON document the SSH provider reads).
//!
//! Guarantees: the key is decoded (with its passphrase) before it is accepted, so a launch never
//! finds out too late that it cannot be used; no message quotes the key or the passphrase.

use super::credentials_input::CheckedKeys;
use crate::crypto::SecretBytes;
use crate::providers::ssh::key::SshKey;
use app::error::AppError;
use app::model::{CloudProvider, CredentialsPublic};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// An RSA 16384-bit key in PEM is about 12 KiB; anything larger is not a key.
const MAX_PRIVATE_KEY: usize = 16 * 1024;
const MAX_PASSPHRASE: usize = 1024;

/// What is sealed: the fields as given, in Seqera's names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshDocument<'a> {
    private_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase: Option<&'a str>,
}

pub(crate) fn check_ssh(
    private_key: Option<SecretString>,
    passphrase: Option<SecretString>,
) -> Result<CheckedKeys, AppError> {
    let Some(private_key) = private_key else {
        return Err(AppError::bad_request(
            "Give the SSH private key (the contents of a file such as ~/.ssh/id_ed25519).",
        ));
    };
    let key = private_key.expose_secret();
    if key.len() > MAX_PRIVATE_KEY {
        return Err(AppError::bad_request("The SSH private key can be at most 16 KiB."));
    }
    if passphrase.as_ref().is_some_and(|p| p.expose_secret().len() > MAX_PASSPHRASE) {
        return Err(AppError::bad_request("The passphrase can be at most 1024 characters."));
    }
    let passphrase_text = passphrase.as_ref().map(|p| p.expose_secret());
    let fingerprint = SshKey::parse(key, passphrase_text)
        .map(|key| key.fingerprint())
        .map_err(|message| AppError::BadRequest(sentence(&message)))?;
    let document = SshDocument { private_key: key, passphrase: passphrase_text };
    let sealed_document = SecretBytes::from(serde_json::to_vec(&document).map_err(crate::domain::internal)?);
    Ok(CheckedKeys {
        provider: CloudProvider::Ssh,
        public: CredentialsPublic { ssh_key_fingerprint: Some(fingerprint), ..CredentialsPublic::default() },
        sealed_document,
    })
}

/// The provider's message as a sentence: capitalised, ending with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}
