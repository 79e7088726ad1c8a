//! Password hashing with argon2id (19 MiB, 2 passes, 1 lane: OWASP's minimum), always on the
//! blocking pool so a sign-in storm cannot stall the async workers, and at most one hash per CPU
//! at a time (`HASHING`): fifty sign-ins at once would otherwise take fifty threads and 950 MiB
//! together, and each would finish only when all do. Queued in turn, they finish in turn.
//!
//! Guarantees: the plaintext is held only in `SecretString` and never logged; an unknown email
//! costs the same hashing work as a wrong password, so timing does not reveal which accounts exist.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashing slots: one per CPU (argon2 with one lane is one thread's work), handed out in the
/// order they were asked for.
fn hashing() -> &'static Semaphore {
    static HASHING: OnceLock<Semaphore> = OnceLock::new();
    HASHING.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

/// Runs argon2 work on the blocking pool once a hashing slot is free.
async fn in_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let slot = hashing().acquire().await?;
    // The slot goes with the work: a caller that gives up (the client left) does not free it
    // while the hash is still being computed.
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await?
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    in_hashing_slot(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
    })
    .await
}

/// A hash of a random password, verified against when the email is unknown so the response
/// takes as long as for a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let random = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(random.as_str().as_bytes(), &salt)
            .expect("hashing a random password")
            .to_string()
    })
}

/// Checks a password against a stored hash; `None` (unknown user) is checked against a dummy hash
/// and always fails.
pub async fn verify(password: SecretString, stored: Option<String>) -> anyhow::Result<bool> {
    in_hashing_slot(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
        let matches = hasher().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
        Ok(known && matches)
    })
    .await
}

/// Computes the dummy hash now, so the first unknown-email sign-in is not faster than later ones.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_use_argon2id_with_the_required_cost() {
        let hash = hash(SecretString::from("correct horse battery")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(!hash.contains("correct horse"));
    }

    #[tokio::test]
    async fn verify_accepts_the_right_password_only() {
        let stored = hash(SecretString::from("correct horse battery")).await.unwrap();
        assert!(verify(SecretString::from("correct horse battery"), Some(stored.clone())).await.unwrap());
        assert!(!verify(SecretString::from("wrong horse battery"), Some(stored)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_with_the_dummy_password() {
        assert!(!verify(SecretString::from("anything at all"), None).await.unwrap());
    }
}
