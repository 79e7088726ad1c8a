//! The cluster's host key: its OpenSSH fingerprint, the pinned-key comparison and the check made
//! inside the key exchange.
//!
//! Guarantee: with a pinned key, a server whose key differs is refused in `check_server_key`,
//! which russh calls before any authentication; the connection then ends with
//! `russh::Error::UnknownKey` and nothing of ours (user name, key, command) has been sent.

use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};
use std::sync::{Arc, Mutex};

/// A host key's fingerprint as `ssh-keygen -l` prints it: `SHA256:<base64 without padding>`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The form compared: the `SHA256:` prefix and base64 padding are optional when typed.
fn normalized(fingerprint: &str) -> &str {
    let trimmed = fingerprint.trim();
    trimmed.strip_prefix("SHA256:").unwrap_or(trimmed).trim_end_matches('=')
}

/// Whether two fingerprints name the same key.
pub fn same(pinned: &str, seen: &str) -> bool {
    normalized(pinned) == normalized(seen)
}

/// Whether a typed fingerprint can be a SHA-256 one (43 base64 characters after `SHA256:`).
pub fn fingerprint_is_valid(fingerprint: &str) -> bool {
    let body = normalized(fingerprint);
    body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The russh client handler: it only decides on the host key, and records what it saw so a
/// refusal can name both fingerprints and a Check can pin the one it accepted.
pub struct HostKeyCheck {
    pub pinned: Option<String>,
    pub seen: Arc<Mutex<Option<String>>>,
}

impl russh::client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let seen = fingerprint(&key.public_key());
        let accepted = self.pinned.as_deref().is_none_or(|pinned| same(pinned, &seen));
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A key made for this test (`ssh-keygen -t ed25519 -C test`); `ssh-keygen -lf` printed
    // `256 SHA256:yrm/JyzLFwuWhaTv7qgehS+zzqO933dtbcS1vMqpEow test (ED25519)` for it.
    const PUBLIC: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKD4KHaqJL/vW1cY8sV4KrZSYji44VEk3fDQ9IMKyucU test";
    const PRINTED: &str = "SHA256:yrm/JyzLFwuWhaTv7qgehS+zzqO933dtbcS1vMqpEow";

    #[test]
    fn the_fingerprint_is_the_one_openssh_prints() {
        let key = PublicKey::from_openssh(PUBLIC).unwrap();
        let printed = fingerprint(&key);
        assert_eq!(printed, PRINTED);
        assert!(fingerprint_is_valid(&printed));
        assert!(same(&printed, &printed));
        assert!(same(printed.trim_start_matches("SHA256:"), &printed));
        assert!(same(&format!(" {printed}= "), &printed));
    }

    #[test]
    fn different_or_malformed_fingerprints_do_not_match() {
        let a = "SHA256:VDrMmLIQmAaSXJLwDNCHOZdd8ZrypgqeDyg0YTp52N0";
        let b = "SHA256:WDrMmLIQmAaSXJLwDNCHOZdd8ZrypgqeDyg0YTp52N0";
        assert!(!same(a, b));
        assert!(!same(a, ""));
        assert!(!fingerprint_is_valid("MD5:12:34"));
        assert!(!fingerprint_is_valid("SHA256:short"));
        assert!(!fingerprint_is_valid("SHA256:VDrMmLIQmAaSXJLwDNCHOZdd8ZrypgqeDyg0YTp52N$"));
    }
}
