//! Sealing and opening one value: a fresh data key per value, wrapped under the key-encryption
//! key (`Kek`), both AES-256-GCM with random nonces and the value's `Binding` as associated data.
//!
//! Guarantees: a sealed value opens only with the key it was sealed under and the exact binding
//! it was sealed with; any altered byte fails to open. Neither the KEK nor a data key ever leaves
//! this file: `Kek` has no `Debug`, data keys live in `Zeroizing` buffers, and `Sealed` prints
//! only the key id and lengths. A key id and a check value are hashes of the key, safe to store
//! and show. Re-wrapping (key rotation) never decrypts the value.

use super::Binding;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretSlice};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "AES-256-GCM/envelope-v1";
const NONCE_LEN: usize = 12;

/// Plaintext bytes: no `Debug` output of the content, no `Serialize`, zeroed on drop.
pub type SecretBytes = SecretSlice<u8>;

/// What a row stores: the wrapped data key and the ciphertext, each prefixed by its nonce.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("wrapped_key_len", &self.wrapped_key.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error(
        "the value could not be decrypted: it was altered, moved to another row, or sealed under another key"
    )]
    Tampered,
    #[error("the value was sealed under key {0}, which is not loaded")]
    UnknownKey(String),
}

/// The key-encryption key, with its public identifier (a hash prefix, safe to store and show).
pub struct Kek {
    key: SecretBox<[u8; 32]>,
    id: String,
}

impl Kek {
    pub fn new(key: SecretBox<[u8; 32]>) -> Kek {
        let digest = Sha256::digest([b"strongroom-kek-id:".as_slice(), key.expose_secret()].concat());
        Kek { id: hex::encode(&digest[..8]), key }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A value stored at first start and checked at every start: a server given the wrong key
    /// refuses to run instead of failing later on every decrypt.
    pub fn check_value(&self) -> String {
        let digest = Sha256::digest([b"strongroom-kek-check:".as_slice(), self.key.expose_secret()].concat());
        hex::encode(digest)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.expose_secret()))
    }

    pub fn seal(&self, plaintext: &SecretBytes, binding: &Binding) -> Sealed {
        let mut dek = zeroize::Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(dek.as_mut());
        let value_cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(dek.as_ref()));
        let ciphertext = encrypt(&value_cipher, plaintext.expose_secret(), &binding.aad("value"));
        let wrapped_key = encrypt(&self.cipher(), dek.as_ref(), &binding.aad("key"));
        Sealed { key_id: self.id.clone(), wrapped_key, ciphertext }
    }

    pub fn open(&self, sealed: &Sealed, binding: &Binding) -> Result<SecretBytes, CryptoError> {
        if sealed.key_id != self.id {
            return Err(CryptoError::UnknownKey(sealed.key_id.clone()));
        }
        let dek = zeroize::Zeroizing::new(decrypt(&self.cipher(), &sealed.wrapped_key, &binding.aad("key"))?);
        if dek.len() != 32 {
            return Err(CryptoError::Tampered);
        }
        let value_cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&dek));
        let plaintext = decrypt(&value_cipher, &sealed.ciphertext, &binding.aad("value"))?;
        Ok(SecretBytes::from(plaintext))
    }

    /// Re-wraps a data key under `new` without touching the ciphertext (key rotation).
    pub fn rewrap(&self, new: &Kek, sealed: &Sealed, binding: &Binding) -> Result<Sealed, CryptoError> {
        if sealed.key_id == new.id {
            return Ok(sealed.clone());
        }
        if sealed.key_id != self.id {
            return Err(CryptoError::UnknownKey(sealed.key_id.clone()));
        }
        let dek = zeroize::Zeroizing::new(decrypt(&self.cipher(), &sealed.wrapped_key, &binding.aad("key"))?);
        Ok(Sealed {
            key_id: new.id.clone(),
            wrapped_key: encrypt(&new.cipher(), &dek, &binding.aad("key")),
            ciphertext: sealed.ciphertext.clone(),
        })
    }
}

fn encrypt(cipher: &Aes256Gcm, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    [nonce.as_slice(), &sealed].concat()
}

fn decrypt(cipher: &Aes256Gcm, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(CryptoError::Tampered);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad }).map_err(|_| CryptoError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(byte: u8) -> Kek {
        Kek::new(SecretBox::new(Box::new([byte; 32])))
    }

    fn binding(item_id: i64) -> Binding<'static> {
        Binding::secret("workspace", 7, item_id, 1)
    }

    fn secret(text: &str) -> SecretBytes {
        SecretBytes::from(text.as_bytes().to_vec())
    }

    #[test]
    fn values_round_trip_and_ciphertexts_differ() {
        let kek = kek(1);
        let a = kek.seal(&secret("s3cr3t-value"), &binding(1));
        let b = kek.seal(&secret("s3cr3t-value"), &binding(1));
        assert_ne!(a.ciphertext, b.ciphertext, "fresh nonce and data key every time");
        assert_eq!(kek.open(&a, &binding(1)).unwrap().expose_secret(), b"s3cr3t-value");
        assert!(!a.ciphertext.windows(12).any(|w| w == b"s3cr3t-value"));
    }

    #[test]
    fn a_row_moved_to_another_binding_fails() {
        let kek = kek(1);
        let sealed = kek.seal(&secret("v"), &binding(1));
        for other in [
            binding(2),
            Binding::secret("user", 7, 1, 1),
            Binding::secret("workspace", 8, 1, 1),
            Binding::credentials(7, 1, 1),
            Binding::secret("workspace", 7, 1, 2),
        ] {
            assert_eq!(kek.open(&sealed, &other).unwrap_err(), CryptoError::Tampered, "{other:?}");
        }
    }

    #[test]
    fn flipped_bits_truncation_and_swapped_keys_fail() {
        let kek = kek(1);
        let sealed = kek.seal(&secret("value"), &binding(1));
        let other = kek.seal(&secret("other"), &binding(1));
        for i in 0..sealed.ciphertext.len() {
            let mut bad = sealed.clone();
            bad.ciphertext[i] ^= 0x01;
            assert!(kek.open(&bad, &binding(1)).is_err(), "bit flip at {i}");
        }
        let mut bad = sealed.clone();
        bad.wrapped_key[20] ^= 0x80;
        assert!(kek.open(&bad, &binding(1)).is_err());
        let mut bad = sealed.clone();
        bad.ciphertext.truncate(sealed.ciphertext.len() - 1);
        assert!(kek.open(&bad, &binding(1)).is_err());
        let mut bad = sealed.clone();
        bad.ciphertext.truncate(5);
        assert!(kek.open(&bad, &binding(1)).is_err());
        let swapped = Sealed { wrapped_key: other.wrapped_key.clone(), ..sealed.clone() };
        assert!(kek.open(&swapped, &binding(1)).is_err());
    }

    #[test]
    fn rewrapping_moves_to_the_new_key_without_changing_the_value() {
        let (old, new) = (kek(1), kek(2));
        let sealed = old.seal(&secret("value"), &binding(1));
        let moved = old.rewrap(&new, &sealed, &binding(1)).unwrap();
        assert_eq!(moved.key_id, new.id());
        assert_eq!(moved.ciphertext, sealed.ciphertext);
        assert_eq!(new.open(&moved, &binding(1)).unwrap().expose_secret(), b"value");
        assert!(matches!(old.open(&moved, &binding(1)), Err(CryptoError::UnknownKey(_))));
        // Rewrapping twice (a resumed rotation) is harmless.
        assert_eq!(old.rewrap(&new, &moved, &binding(1)).unwrap(), moved);
    }

    #[test]
    fn the_wrong_key_is_detected_by_its_check_value() {
        assert_ne!(kek(1).check_value(), kek(2).check_value());
        assert_eq!(kek(1).check_value(), kek(1).check_value());
        assert_ne!(kek(1).id(), kek(2).id());
    }
}
