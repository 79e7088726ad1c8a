//! The SSH credentials: Seqera's `SSHSecurityKeys` JSON (`{"privateKey": "<OpenSSH or PEM>",
//! "passphrase": "<optional>"}`), opened into a private key.
//!
//! Guarantee: no message here ever quotes the key, the passphrase or the JSON; the plaintext
//! JSON and passphrase are zeroized when dropped (the parsed key zeroizes itself).

use crate::crypto::SecretBytes;
use russh::keys::{HashAlg, PrivateKey};
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::sync::Arc;
use zeroize::Zeroizing;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SshSecurityKeys {
    private_key: Zeroizing<String>,
    #[serde(default)]
    passphrase: Option<Zeroizing<String>>,
}

/// An opened private key, shared by a store's connections.
#[derive(Clone)]
pub struct SshKey {
    key: Arc<PrivateKey>,
}

impl SshKey {
    /// Opens the credentials JSON. The error says what to fix, never what was given.
    pub fn from_credentials(credentials: Option<&SecretBytes>) -> Result<SshKey, String> {
        let Some(credentials) = credentials else {
            return Err("this SSH compute environment has no SSH credentials: choose SSH credentials \
                        (a private key) for it"
                .into());
        };
        let keys: SshSecurityKeys = serde_json::from_slice(credentials.expose_secret()).map_err(|_| {
            "the SSH credentials are not the expected JSON (privateKey and an optional passphrase): \
             add the SSH credentials again"
                .to_string()
        })?;
        let passphrase = keys.passphrase.as_ref().map(|p| p.as_str()).filter(|p| !p.is_empty());
        SshKey::parse(&keys.private_key, passphrase)
    }

    /// [`SshKey::from_credentials`] on a blocking thread: decrypting a passphrase-protected key
    /// runs bcrypt's key derivation, which must not hold up the async workers.
    pub async fn open(credentials: Option<&SecretBytes>) -> Result<SshKey, String> {
        let copy = credentials.map(|c| SecretBytes::from(c.expose_secret().to_vec()));
        tokio::task::spawn_blocking(move || SshKey::from_credentials(copy.as_ref()))
            .await
            .map_err(|_| "opening the SSH key failed unexpectedly; try again".to_string())?
    }

    /// Opens a private key in OpenSSH or PEM form, decrypting it with the passphrase.
    pub fn parse(pem: &str, passphrase: Option<&str>) -> Result<SshKey, String> {
        if !pem.contains("-----BEGIN ") || !pem.contains("PRIVATE KEY-----") {
            return Err(NOT_A_KEY.into());
        }
        match russh::keys::decode_secret_key(pem, passphrase) {
            Ok(key) => Ok(SshKey { key: Arc::new(key) }),
            Err(russh::keys::Error::KeyIsEncrypted) => {
                Err("the SSH private key is protected by a passphrase and the credentials have none: \
                 add its passphrase to the credentials"
                    .into())
            }
            Err(_) if passphrase.is_some() && is_encrypted(pem) => {
                Err("the passphrase in the SSH credentials does not open the private key: replace the \
                 passphrase with the key's own"
                    .into())
            }
            Err(_) => Err(NOT_A_KEY.into()),
        }
    }

    pub fn private(&self) -> Arc<PrivateKey> {
        self.key.clone()
    }

    pub fn is_rsa(&self) -> bool {
        self.key.algorithm().is_rsa()
    }

    /// The public key as an `authorized_keys` line (not a secret: it is what users install).
    pub fn public_line(&self) -> String {
        self.key
            .public_key()
            .to_openssh()
            .unwrap_or_else(|_| format!("a {} key", self.key.algorithm().as_str()))
    }

    /// The public key's fingerprint, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key.public_key().fingerprint(HashAlg::Sha256).to_string()
    }
}

const NOT_A_KEY: &str = "the SSH credentials' privateKey is not a private key in OpenSSH or PEM form \
                         (it should start with -----BEGIN OPENSSH PRIVATE KEY-----): add the key again";

/// Whether the key says it is encrypted without being decrypted: an OpenSSH key with a cipher,
/// or an encrypted PEM.
fn is_encrypted(pem: &str) -> bool {
    if pem.contains("ENCRYPTED") {
        return true;
    }
    russh::keys::PrivateKey::from_openssh(pem.trim()).is_ok_and(|key| key.is_encrypted())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A fresh key from `ssh-keygen` (the OpenSSH tools are on every machine that runs these).
    fn generate(kind: &str, passphrase: &str, pem: bool) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let mut command = Command::new("ssh-keygen");
        command.args(["-q", "-t", kind, "-N", passphrase, "-C", "unit"]).arg("-f").arg(&path);
        if kind == "rsa" {
            command.args(["-b", "2048"]);
        }
        if pem {
            command.args(["-m", "PEM"]);
        }
        assert!(command.status().unwrap().success(), "ssh-keygen failed");
        std::fs::read_to_string(path).unwrap()
    }

    fn credentials(json: serde_json::Value) -> SecretBytes {
        SecretBytes::from(serde_json::to_vec(&json).unwrap())
    }

    #[test]
    fn an_openssh_key_opens_and_names_its_public_half() {
        let pem = generate("ed25519", "", false);
        let key =
            SshKey::from_credentials(Some(&credentials(serde_json::json!({"privateKey": pem})))).unwrap();
        assert!(key.public_line().starts_with("ssh-ed25519 "));
        assert!(key.fingerprint().starts_with("SHA256:"));
        assert!(!key.is_rsa());
    }

    #[test]
    fn a_pem_rsa_key_opens() {
        let key = SshKey::parse(&generate("rsa", "", true), None).unwrap();
        assert!(key.is_rsa());
    }

    #[test]
    fn a_passphrase_key_needs_its_passphrase() {
        let pem = generate("ed25519", "correct horse", false);
        assert!(SshKey::parse(&pem, Some("correct horse")).is_ok());
        let missing = SshKey::parse(&pem, None).err().unwrap();
        assert!(missing.contains("add its passphrase"), "{missing}");
        let json = credentials(serde_json::json!({"privateKey": pem, "passphrase": "not-it-7731"}));
        let wrong = SshKey::from_credentials(Some(&json)).err().unwrap();
        assert!(wrong.contains("does not open the private key"), "{wrong}");
        assert!(!wrong.contains("not-it-7731"), "{wrong}");
    }

    #[test]
    fn what_is_not_a_key_is_refused_without_being_quoted() {
        let garbage =
            "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXZhbHVlLTQy\n-----END OPENSSH PRIVATE KEY-----";
        for pem in ["secret-value-42", garbage] {
            let error = SshKey::parse(pem, None).err().unwrap();
            assert!(error.contains("not a private key"), "{error}");
            assert!(!error.contains("secret-value-42") && !error.contains("c2VjcmV0"), "{error}");
        }
        let not_json = SecretBytes::from(b"privateKey=secret-value-42".to_vec());
        let error = SshKey::from_credentials(Some(&not_json)).err().unwrap();
        assert!(!error.contains("secret-value-42"), "{error}");
        assert!(SshKey::from_credentials(None).err().unwrap().contains("no SSH credentials"));
    }
}
