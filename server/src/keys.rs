//! The instance's key-encryption key: 32 random bytes in a file readable by the server alone.
//! Created with mode 0600 (before any byte is written) on first start; refused if it is readable
//! by others or has the wrong length. The key is held in a `SecretBox` and zeroed on drop.

use anyhow::{bail, Context};
use rand::RngCore;
use secrecy::SecretBox;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const KEY_LEN: usize = 32;

pub type MasterKey = SecretBox<[u8; KEY_LEN]>;

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

fn load(path: &Path) -> anyhow::Result<MasterKey> {
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
    use secrecy::ExposeSecret;

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
}
