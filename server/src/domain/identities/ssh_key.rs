//! Checks a member's SSH key before it is sealed, and builds the document that is sealed.
//!
//! Guarantees: no message built here quotes the key or the passphrase; the key and the sealed
//! document live in `SecretString` / `SecretBytes` only. The sealed document is Seqera's
//! `SSHSecurityKeys` JSON, `{"privateKey": "…", "passphrase": "…"}` (passphrase omitted when
//! none), which the SSH provider reads as `Target.credentials`.
//!
//! The key is decoded with the SSH provider's parser (`providers/ssh/key.rs`), with its
//! passphrase: workspace SSH credentials (`compute::ssh_key_input`) are checked here too.

use crate::crypto::SecretBytes;
use crate::providers::ssh::key::SshKey;
use app::error::AppError;
use app::ports::SshKeysInput;
use secrecy::ExposeSecret;
use serde::Serialize;

/// A private key file is a few KiB at most (RSA 16384 is under 13 KiB).
const MAX_KEY: usize = 16 * 1024;
const MAX_PASSPHRASE: usize = 1024;

/// A key that passed the check: the document to seal and what may be shown of it.
pub(crate) struct CheckedKey {
    pub sealed_document: SecretBytes,
    /// `SHA256:…` of the public half, when the key format carries it readably.
    pub fingerprint: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SshSecurityKeys<'a> {
    private_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase: Option<&'a str>,
}

fn bad(message: &str) -> AppError {
    AppError::bad_request(message)
}

/// Checks the key and passphrase and returns the document to seal with the key's fingerprint.
pub(crate) fn check(keys: &SshKeysInput) -> Result<CheckedKey, AppError> {
    // Browsers send a textarea's lines with CRLF; SSH key parsers want LF and a final newline.
    let key = keys.private_key.expose_secret().replace("\r\n", "\n");
    let key = secrecy::SecretString::from(format!("{}\n", key.trim()));
    let passphrase = keys.passphrase.as_ref().map(|p| p.expose_secret()).filter(|p| !p.is_empty());
    if passphrase.is_some_and(|p| p.len() > MAX_PASSPHRASE) {
        return Err(bad("The passphrase is too long (at most 1024 characters)."));
    }
    let fingerprint = check_private_key(key.expose_secret(), passphrase)?;
    let document = SshSecurityKeys { private_key: key.expose_secret(), passphrase };
    let sealed_document = SecretBytes::from(serde_json::to_vec(&document).map_err(crate::error::internal)?);
    Ok(CheckedKey { sealed_document, fingerprint })
}

/// Checks the key with the SSH provider's own parser (so a key that passes here is one a launch
/// can use, and its passphrase really opens it), after friendlier messages for the usual
/// mistakes. Returns the public key's fingerprint.
pub(crate) fn check_private_key(key: &str, passphrase: Option<&str>) -> Result<Option<String>, AppError> {
    if key.trim().is_empty() {
        return Err(bad("Paste your SSH private key (the whole file, from -----BEGIN to -----END)."));
    }
    if key.len() > MAX_KEY {
        return Err(bad("That is too long for an SSH private key (at most 16 KiB)."));
    }
    let first = key.lines().next().unwrap_or_default().trim();
    if first.starts_with("ssh-") || first.starts_with("ecdsa-") || first.contains("PUBLIC KEY") {
        return Err(bad(
            "That is a public key. Paste the private key instead (the key file without .pub, which \
             starts with -----BEGIN OPENSSH PRIVATE KEY-----).",
        ));
    }
    let label = first.strip_prefix("-----BEGIN ").and_then(|rest| rest.strip_suffix("-----"));
    if let Some(label) = label {
        if !key.trim_end().ends_with(&format!("-----END {label}-----")) {
            return Err(bad("The private key is cut short: paste the whole file, up to its -----END line."));
        }
    }
    SshKey::parse(key, passphrase)
        .map(|key| Some(key.fingerprint()))
        .map_err(|message| AppError::BadRequest(sentence(&message)))
}

/// The provider's message as a sentence: capitalised, ending with a full stop.
pub(crate) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ed25519 key made with `ssh-keygen -t ed25519 -N ''` for this test only; its public
    /// half's fingerprint, as `ssh-keygen -lf` prints it, follows.
    const ED25519: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAaHulr5F/mLNvzkfIi3QPkg6KioxzTmaYTeMlW2O8ngAAAAJj+VfLx/lXy
8QAAAAtzc2gtZWQyNTUxOQAAACAaHulr5F/mLNvzkfIi3QPkg6KioxzTmaYTeMlW2O8ngA
AAAEClGfPOhBKu443k3f8ZlFy7kvqHnnoYMY+sUknBAok6dhoe6WvkX+Ys2/OR8iLdA+SD
oqKjHNOZphN4yVbY7yeAAAAAD3Rlc3RAc3Ryb25ncm9vbQECAwQFBg==
-----END OPENSSH PRIVATE KEY-----
";
    const ED25519_FINGERPRINT: &str = "SHA256:iX8O8CcwQFAS6ojwyrggi0EFMvkenWV6zAuSOxlnnKI";

    fn input(key: &str, passphrase: Option<&str>) -> SshKeysInput {
        SshKeysInput {
            private_key: key.to_string().into(),
            passphrase: passphrase.map(|p| p.to_string().into()),
        }
    }

    #[test]
    fn an_openssh_key_is_accepted_with_the_fingerprint_of_its_public_half() {
        let checked = check(&input(&ED25519.replace('\n', "\r\n"), None)).unwrap();
        assert_eq!(checked.fingerprint.as_deref(), Some(ED25519_FINGERPRINT));
        let document: serde_json::Value =
            serde_json::from_slice(checked.sealed_document.expose_secret()).unwrap();
        assert_eq!(document["privateKey"], ED25519, "CRLF became LF");
        assert!(document.get("passphrase").is_none());
    }

    #[test]
    fn refusals_say_what_to_fix_and_never_quote_the_input() {
        let cut = &ED25519[..ED25519.len() - 20];
        let public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN8uHJVTe0nYPAwO/tnVdV+Q test";
        let garbage = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot*base64\n-----END OPENSSH PRIVATE KEY-----";
        for (key, says) in
            [("", "Paste"), (cut, "cut short"), (public, "public key"), (garbage, "not a private key")]
        {
            let message = check(&input(key, None)).err().unwrap().to_string();
            assert!(message.contains(says), "{message}");
            assert!(!message.contains("b3Blbn") && !message.contains("AAAAC3"), "{message}");
        }
        let wrong = check(&input(ED25519, Some("not its passphrase")));
        assert!(wrong.is_ok(), "an unencrypted key ignores a passphrase");
    }
}
