//! Checks a member's SSH key before it is sealed, and builds the document that is sealed.
//!
//! Guarantees: no message built here quotes the key or the passphrase; the key and the sealed
//! document live in `SecretString` / `SecretBytes` only. The sealed document is Seqera's
//! `SSHSecurityKeys` JSON, `{"privateKey": "…", "passphrase": "…"}` (passphrase omitted when
//! none), which the SSH provider reads as `Target.credentials`.
//!
//! `check_private_key` is the interim check until the SSH provider's key parser
//! (`providers/ssh/key.rs`) is on main: it accepts an OpenSSH or PEM private key block and reads
//! the public key's fingerprint from OpenSSH keys (stored unencrypted in that format), without
//! proving the passphrase.

use crate::crypto::SecretBytes;
use app::error::AppError;
use app::ports::SshKeysInput;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use secrecy::ExposeSecret;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A private key file is a few KiB at most (RSA 16384 is under 13 KiB).
const MAX_KEY: usize = 16 * 1024;
const MAX_PASSPHRASE: usize = 1024;

/// The private key blocks SSH clients read.
const KEY_LABELS: [&str; 6] = [
    "OPENSSH PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
];

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

/// The interim key check (see the module doc): the text must be one private key block of a
/// known kind whose body is base64; an OpenSSH key must hold exactly one key, and a passphrase
/// when it is encrypted. Returns the public key's fingerprint where the format shows it.
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
    let label = KEY_LABELS
        .into_iter()
        .find(|label| first == format!("-----BEGIN {label}-----"))
        .ok_or_else(not_a_key)?;
    let lines: Vec<&str> = key.lines().map(str::trim).collect();
    let end = format!("-----END {label}-----");
    if lines.last() != Some(&end.as_str()) {
        return Err(bad("The private key is cut short: paste the whole file, up to its -----END line."));
    }
    // Legacy encrypted PEM keys carry `Proc-Type:` and `DEK-Info:` headers before the body.
    let body: String = lines[1..lines.len() - 1].iter().filter(|line| !line.contains(':')).copied().collect();
    let der = zeroize::Zeroizing::new(STANDARD.decode(body.as_bytes()).map_err(|_| not_a_key())?);
    if label != "OPENSSH PRIVATE KEY" {
        let encrypted = label == "ENCRYPTED PRIVATE KEY" || key.contains("Proc-Type: 4,ENCRYPTED");
        if encrypted && passphrase.is_none() {
            return Err(needs_passphrase());
        }
        return Ok(None);
    }
    let container = OpenSshContainer::parse(&der).ok_or_else(not_a_key)?;
    if container.keys != 1 {
        return Err(bad("The key file holds several keys: paste a file with one private key."));
    }
    if container.cipher != b"none" && passphrase.is_none() {
        return Err(needs_passphrase());
    }
    Ok(Some(format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(container.public_key)))))
}

fn not_a_key() -> AppError {
    bad("That is not an SSH private key: paste the whole private key file (for example ~/.ssh/id_ed25519), \
         from -----BEGIN OPENSSH PRIVATE KEY----- to its -----END line.")
}

fn needs_passphrase() -> AppError {
    bad("This private key is protected by a passphrase: give the passphrase too.")
}

/// The unencrypted head of an OpenSSH private key file (`PROTOCOL.key` in OpenSSH's sources):
/// magic, cipher name, KDF name and options, the number of keys, then the first public key.
struct OpenSshContainer<'a> {
    cipher: &'a [u8],
    keys: u32,
    public_key: &'a [u8],
}

impl<'a> OpenSshContainer<'a> {
    fn parse(data: &'a [u8]) -> Option<OpenSshContainer<'a>> {
        let mut rest = data.strip_prefix(b"openssh-key-v1\0")?;
        let cipher = take_string(&mut rest)?;
        let _kdf_name = take_string(&mut rest)?;
        let _kdf_options = take_string(&mut rest)?;
        let keys = take_u32(&mut rest)?;
        let public_key = take_string(&mut rest)?;
        (!public_key.is_empty()).then_some(OpenSshContainer { cipher, keys, public_key })
    }
}

fn take_u32(data: &mut &[u8]) -> Option<u32> {
    let (head, rest) = data.split_first_chunk::<4>()?;
    *data = rest;
    Some(u32::from_be_bytes(*head))
}

fn take_string<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = take_u32(data)? as usize;
    if data.len() < len {
        return None;
    }
    let (value, rest) = data.split_at(len);
    *data = rest;
    Some(value)
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
            [("", "Paste"), (cut, "cut short"), (public, "public key"), (garbage, "not an SSH private key")]
        {
            let message = check(&input(key, None)).err().unwrap().to_string();
            assert!(message.contains(says), "{message}");
            assert!(!message.contains("b3Blbn") && !message.contains("AAAAC3"), "{message}");
        }
        let encrypted_pem =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----";
        let message = check(&input(encrypted_pem, None)).err().unwrap().to_string();
        assert!(message.contains("passphrase"), "{message}");
        assert!(check(&input(encrypted_pem, Some("pw"))).is_ok());
    }
}
