//! Loading, creating and checking the instance's key-encryption key (KEK): 32 random bytes in a
//! file readable by the server alone, or the same 32 bytes as base64 in `STRONGROOM_KEY` (which
//! then wins, and no file is created).
//!
//! Guarantees:
//! - A key file is created with mode 0600 (before any byte is written) on first start; it is
//!   refused if it is readable by others or has the wrong length.
//! - A `STRONGROOM_KEY` that is not base64 or not 32 bytes is refused with a message that never
//!   repeats the value.
//! - The key never leaves this process: it is held in a `SecretBox` (no `Debug` output, zeroed on
//!   drop), intermediate buffers are `Zeroizing`, and only its id and check value (hashes, see
//!   `Kek`) are ever stored or shown.

use crate::config::Config;
use anyhow::{bail, Context};
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const KEY_LEN: usize = 32;

pub type MasterKey = SecretBox<[u8; KEY_LEN]>;

/// The server's key: `STRONGROOM_KEY` when set, else the key file (created if absent).
pub fn load_configured(config: &Config) -> anyhow::Result<MasterKey> {
    match &config.key {
        Some(encoded) => from_base64(encoded),
        None => load_or_create(&config.key_file()),
    }
}

/// Like `load_configured`, but never creates a key file (commands that work on an existing
/// database, such as key rotation).
pub fn load_existing(config: &Config) -> anyhow::Result<MasterKey> {
    match &config.key {
        Some(encoded) => from_base64(encoded),
        None => load(&config.key_file()),
    }
}

/// Decodes `STRONGROOM_KEY`: standard base64 of exactly 32 bytes, surrounding whitespace ignored.
/// Errors name the variable, never its content (a decoder's message would quote a character).
pub fn from_base64(encoded: &SecretString) -> anyhow::Result<MasterKey> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.expose_secret().trim())
        .map(zeroize::Zeroizing::new)
        .map_err(|_| {
            anyhow::anyhow!(
                "STRONGROOM_KEY is not valid base64 (standard alphabet, with '=' padding); \
                 make one with: head -c 32 /dev/urandom | base64"
            )
        })?;
    if decoded.len() != KEY_LEN {
        bail!(
            "STRONGROOM_KEY must decode to exactly {KEY_LEN} bytes, but it decodes to {} bytes",
            decoded.len()
        );
    }
    let mut key = Box::new([0u8; KEY_LEN]);
    key.copy_from_slice(&decoded);
    Ok(SecretBox::new(key))
}

/// Loads the key, creating the file first if it does not exist.
pub fn load_or_create(path: &Path) -> anyhow::Result<MasterKey> {
    if !path.exists() {
        create(path)?;
    }
    load(path)
}

fn create(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    let mut key = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not create the key file {}", path.display()))?;
    file.write_all(key.as_ref())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated a new key file");
    Ok(())
}

/// Loads an existing key file: mode 0600 (no access for group or others) and exactly 32 bytes.
pub fn load(path: &Path) -> anyhow::Result<MasterKey> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("could not read the key file {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "the key file {} is readable by other users (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let bytes = zeroize::Zeroizing::new(std::fs::read(path)?);
    if bytes.len() != KEY_LEN {
        bail!("the key file {} must hold exactly {KEY_LEN} bytes", path.display());
    }
    let mut key = Box::new([0u8; KEY_LEN]);
    key.copy_from_slice(&bytes);
    Ok(SecretBox::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/strongroom.key");
        let first = load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = load_or_create(&path).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
    }

    #[test]
    fn a_world_readable_or_short_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, [7u8; KEY_LEN]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, [7u8; 5]).unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("exactly 32 bytes"));
    }

    fn encoded(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[test]
    fn a_base64_key_decodes_to_the_same_bytes_as_its_file() {
        let bytes: Vec<u8> = (0u8..32).collect();
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let key = from_base64(&encoded(&format!("  {text}\n"))).unwrap();
        assert_eq!(key.expose_secret().as_slice(), bytes.as_slice());
    }

    #[test]
    fn a_bad_base64_key_is_refused_without_echoing_it() {
        for (value, expected) in [
            ("not-base64-at-all!secretish", "not valid base64"),
            ("c2hvcnQtc2VjcmV0LXZhbHVl", "exactly 32 bytes, but it decodes to 18 bytes"),
            // URL-safe alphabet is not the standard one.
            ("_-__-__-__-__-__-__-__-__-__-__-__-__-__-_8=", "not valid base64"),
        ] {
            let message = format!("{:#}", from_base64(&encoded(value)).unwrap_err());
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains(value), "the value leaked: {message}");
            assert!(!message.contains("secret"), "part of the value leaked: {message}");
        }
    }

    #[test]
    fn the_environment_key_wins_over_the_file_and_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            key: Some(encoded(&base64::engine::general_purpose::STANDARD.encode([9u8; KEY_LEN]))),
            ..Config::default()
        };
        assert_eq!(load_configured(&config).unwrap().expose_secret(), &[9u8; KEY_LEN]);
        assert!(!config.key_file().exists(), "no key file is created when STRONGROOM_KEY is set");
        let from_file = Config { key: None, ..config.clone() };
        assert!(load_existing(&from_file).is_err(), "load_existing never creates a file");
        let created = load_configured(&from_file).unwrap();
        assert_ne!(created.expose_secret(), &[9u8; KEY_LEN]);
        assert!(from_file.key_file().exists());
    }
}
