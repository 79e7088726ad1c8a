//! The issuer's signing keys: a directory of RSA private keys, one PKCS#8 PEM file per key, named
//! by the Unix time (seconds) the key starts signing at (`1764540000.pem`).
//!
//! Rotation without a gap a cloud would notice:
//! - a key is **published** (in the JWKS) as soon as its file exists, before it signs, so a cloud
//!   that caches the JWKS has time to fetch it;
//! - the **signing** key is the one with the latest start time that has come;
//! - a key is **retired** (left out of the JWKS) once its successor has been signing for a whole
//!   token lifetime: every token it signed has expired by then.
//!
//! Guarantees: the directory and its files are readable by this account alone (a key a local user
//! could read is refused, the server does not start with it); a file that is not an RSA key of
//! 2048 to 4096 bits is refused by name, never quoted; new keys are written with mode 0600 before
//! any byte of them, and renamed into place whole, so a reader never sees half a key.

use anyhow::{bail, Context};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The size of the keys this server generates; 2048 to 4096 are accepted from a file.
const GENERATED_BITS: usize = 3072;
const MIN_BITS: usize = 2048;
const MAX_BITS: usize = 4096;

/// One signing key: its start time, its RFC 7638 thumbprint (`kid`) and both halves.
pub struct RingKey {
    /// Unix seconds from which it signs.
    pub starts_at: i64,
    pub kid: String,
    pub signing: EncodingKey,
    /// The public half, as published (`kty`, `alg`, `use`, `kid`, `n`, `e`).
    pub public: Jwk,
}

/// The keys directory, read again on every use (a rotation by the CLI or another replica shows up
/// without a restart); parsed keys are kept by file name.
pub struct KeyRing {
    dir: PathBuf,
    parsed: Mutex<BTreeMap<String, Arc<RingKey>>>,
}

impl KeyRing {
    /// Opens (creating, mode 0700) the directory and checks what is already in it: loose
    /// permissions or an unreadable key stop the start.
    pub fn open(dir: &Path) -> anyhow::Result<KeyRing> {
        create_private_dir(dir)?;
        let ring = KeyRing { dir: dir.to_path_buf(), parsed: Mutex::new(BTreeMap::new()) };
        ring.keys()?;
        Ok(ring)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every key in the directory, oldest start first.
    pub fn keys(&self) -> anyhow::Result<Vec<Arc<RingKey>>> {
        check_private(&self.dir)?;
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)
            .with_context(|| format!("could not list the OIDC keys directory {}", self.dir.display()))?
        {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".pem") {
                if stem.parse::<i64>().is_ok() {
                    names.push(name);
                }
            }
        }
        let mut parsed = self.parsed.lock().expect("key cache lock");
        parsed.retain(|name, _| names.contains(name));
        for name in &names {
            if !parsed.contains_key(name) {
                let key = read_key(&self.dir.join(name))?;
                parsed.insert(name.clone(), Arc::new(key));
            }
        }
        let mut keys: Vec<_> = parsed.values().cloned().collect();
        keys.sort_by_key(|k| k.starts_at);
        Ok(keys)
    }

    /// The key that signs at `now` (Unix seconds); generates the first key when there is none.
    pub fn signing_key(&self, now: i64) -> anyhow::Result<Arc<RingKey>> {
        let keys = self.keys()?;
        if let Some(key) = signing_at(&keys, now) {
            return Ok(key.clone());
        }
        if keys.is_empty() {
            self.add_first(now)?;
            return self.signing_key(now);
        }
        // Only keys that start later: the directory was filled by hand or the clock went back.
        bail!(
            "no OIDC signing key in {} has started yet (the earliest starts at Unix time {}); check the \
             server's clock",
            self.dir.display(),
            keys[0].starts_at
        )
    }

    /// The keys to publish at `now`: every key not yet retired, including those that do not sign
    /// yet. Generates the first key when there is none, so the JWKS is never empty.
    pub fn published(&self, now: i64, token_lifetime_secs: i64) -> anyhow::Result<Vec<Arc<RingKey>>> {
        if self.keys()?.is_empty() {
            self.add_first(now)?;
        }
        let keys = self.keys()?;
        Ok(keys.iter().filter(|k| !is_retired(&keys, k, now, token_lifetime_secs)).cloned().collect())
    }

    /// Writes a new key that starts signing at `starts_at`; returns its `kid`. Never replaces a
    /// key: two servers making the first key in the same second keep the first one written.
    pub fn add(&self, starts_at: i64) -> anyhow::Result<String> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, GENERATED_BITS)
            .context("could not generate an RSA key")?;
        let pem = private.to_pkcs8_pem(LineEnding::LF).context("could not encode the new key")?;
        let name = format!("{starts_at}.pem");
        let path = self.dir.join(&name);
        if path.exists() {
            bail!("an OIDC key starting at Unix time {starts_at} already exists ({})", path.display());
        }
        let partial = self.dir.join(format!(".{name}.partial-{}", uuid::Uuid::new_v4().simple()));
        write_private_file(&partial, pem.as_bytes())?;
        // A hard link appears whole and fails if the name is taken (a rename would replace it).
        let linked = std::fs::hard_link(&partial, &path);
        let _ = std::fs::remove_file(&partial);
        linked.with_context(|| format!("could not add the key {}", path.display()))?;
        Ok(read_key(&path)?.kid)
    }

    /// The first key, made on first use; another server making it at the same moment is fine.
    fn add_first(&self, now: i64) -> anyhow::Result<()> {
        match self.add(now) {
            Ok(_) => Ok(()),
            Err(_) if !self.keys()?.is_empty() => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Deletes the files of retired keys; returns their `kid`s.
    pub fn remove_retired(&self, now: i64, token_lifetime_secs: i64) -> anyhow::Result<Vec<String>> {
        let keys = self.keys()?;
        let mut removed = Vec::new();
        for key in keys.iter().filter(|k| is_retired(&keys, k, now, token_lifetime_secs)) {
            let path = self.dir.join(format!("{}.pem", key.starts_at));
            std::fs::remove_file(&path).with_context(|| format!("could not delete {}", path.display()))?;
            removed.push(key.kid.clone());
        }
        Ok(removed)
    }
}

/// The latest key whose start has come.
pub fn signing_at(keys: &[Arc<RingKey>], now: i64) -> Option<&Arc<RingKey>> {
    keys.iter().filter(|k| k.starts_at <= now).max_by_key(|k| k.starts_at)
}

/// Whether every token `key` signed has expired at `now`: its successor (the next key to start)
/// has been signing for at least one token lifetime.
pub fn is_retired(keys: &[Arc<RingKey>], key: &RingKey, now: i64, token_lifetime_secs: i64) -> bool {
    keys.iter()
        .filter(|k| k.starts_at > key.starts_at)
        .map(|k| k.starts_at)
        .min()
        .is_some_and(|successor| now >= successor + token_lifetime_secs)
}

/// Reads one key file: an RSA private key in PKCS#8 PEM, 2048 to 4096 bits. Errors name the file,
/// never its content.
fn read_key(path: &Path) -> anyhow::Result<RingKey> {
    check_private(path)?;
    let starts_at = path
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<i64>().ok())
        .with_context(|| format!("{} is not named <unix-seconds>.pem", path.display()))?;
    let pem = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("could not read the OIDC key {}", path.display()))?,
    );
    let private = RsaPrivateKey::from_pkcs8_pem(&pem)
        .map_err(|_| anyhow::anyhow!("{} is not an RSA private key in PKCS#8 PEM", path.display()))?;
    let bits = private.size() * 8;
    if !(MIN_BITS..=MAX_BITS).contains(&bits) {
        bail!("the OIDC key {} has {bits} bits; use 2048 to 4096", path.display());
    }
    let signing = EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|_| anyhow::anyhow!("{} could not be loaded as an RS256 signing key", path.display()))?;
    let mut public = Jwk::from_encoding_key(&signing, Algorithm::RS256)
        .map_err(|e| anyhow::anyhow!("could not derive the public key of {}: {e}", path.display()))?;
    let kid = public.thumbprint(ThumbprintHash::SHA256);
    public.common.key_id = Some(kid.clone());
    public.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(RingKey { starts_at, kid, signing, public })
}

/// Refuses a directory or file that anyone but its owner may read, write or enter.
fn check_private(path: &Path) -> anyhow::Result<()> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("could not read {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is open to other users (mode {:o}); the OIDC signing keys must be private: chmod {} {}",
            path.display(),
            mode & 0o777,
            if path.is_dir() { "700" } else { "600" },
            path.display()
        );
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("could not create the OIDC keys directory {}", dir.display()))?;
    }
    Ok(())
}

fn write_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(starts_at: i64) -> Arc<RingKey> {
        // Schedules are about start times only; one real key stands in for every entry.
        static PEM: std::sync::OnceLock<(EncodingKey, Jwk)> = std::sync::OnceLock::new();
        let (signing, public) = PEM.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let ring = KeyRing::open(&dir.path().join("keys")).unwrap();
            ring.add(0).unwrap();
            let k = ring.keys().unwrap()[0].clone();
            (k.signing.clone(), k.public.clone())
        });
        Arc::new(RingKey {
            starts_at,
            kid: starts_at.to_string(),
            signing: signing.clone(),
            public: public.clone(),
        })
    }

    #[test]
    fn the_latest_started_key_signs_and_a_key_retires_one_lifetime_after_its_successor_starts() {
        let keys = vec![key(100), key(200), key(300)];
        assert_eq!(signing_at(&keys, 99).map(|k| k.starts_at), None);
        assert_eq!(signing_at(&keys, 150).map(|k| k.starts_at), Some(100));
        assert_eq!(signing_at(&keys, 299).map(|k| k.starts_at), Some(200));
        assert_eq!(signing_at(&keys, 300).map(|k| k.starts_at), Some(300));
        // Key 100 signed until 200; its last token expires at 200 + 60.
        assert!(!is_retired(&keys, &keys[0], 259, 60));
        assert!(is_retired(&keys, &keys[0], 260, 60));
        // The newest key never retires; a key whose successor has not started does not either.
        assert!(!is_retired(&keys, &keys[2], 10_000, 60));
        assert!(!is_retired(&keys, &keys[1], 299, 60));
    }

    #[test]
    fn a_key_is_never_replaced_and_a_first_key_made_twice_at_once_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::open(&dir.path().join("keys")).unwrap();
        let kid = ring.add(9).unwrap();
        assert!(ring.add(9).is_err(), "the same start time again");
        assert_eq!(ring.keys().unwrap()[0].kid, kid, "the first key stays");
        ring.add_first(9).unwrap();
        assert_eq!(ring.keys().unwrap().len(), 1);
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("keys")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["9.pem"], "no partial file is left behind");
    }

    #[test]
    fn a_key_open_to_others_or_not_a_key_stops_the_ring() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let ring = KeyRing::open(&keys).unwrap();
        let kid = ring.add(5).unwrap();
        assert_eq!(kid.len(), 43, "a SHA-256 thumbprint in base64url");
        let file = keys.join("5.pem");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = KeyRing::open(&keys).err().unwrap().to_string();
        assert!(error.contains("open to other users") && error.contains("chmod 600"), "{error}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

        std::fs::write(keys.join("7.pem"), "not a key at all: s3cr3t").unwrap();
        std::fs::set_permissions(keys.join("7.pem"), std::fs::Permissions::from_mode(0o600)).unwrap();
        let error = KeyRing::open(&keys).err().unwrap().to_string();
        assert!(error.contains("7.pem is not an RSA private key") && !error.contains("s3cr3t"), "{error}");
    }
}
