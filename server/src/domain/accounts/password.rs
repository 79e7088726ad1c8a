//! Password hashing with argon2id (19 MiB, 2 passes, 1 lane: OWASP's minimum), always on the
//! blocking pool so a sign-in storm cannot stall the async workers, and at most one hash per CPU
//! at a time (`HASHING`): fifty sign-ins at once would otherwise take fifty threads and 950 MiB
//! together, and each would finish only when all do. Queued in turn, they finish in turn.
//!
//! Argon2's working memory (19 MiB a hash) is kept and reused, one buffer per hashing slot
//! (`WORK_MEMORY`): allocated afresh for each hash, the freed buffers stayed in the C
//! allocator's per-thread arenas, and 50 sign-ins left the server at 500 MB resident.
//!
//! Guarantees: the plaintext is held only in `SecretString` and never logged; an unknown email
//! costs the same hashing work as a wrong password, so timing does not reveal which accounts exist.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Mutex, OnceLock, PoisonError};
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

fn params() -> Params {
    Params::new(MEMORY_KIB, PASSES, LANES, None).expect("valid argon2 parameters")
}

/// The working memory of finished hashes, for the next ones: at most one buffer per hashing
/// slot is ever in use, so at most that many exist.
static WORK_MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `work` with a kept buffer of at least `blocks` argon2 blocks (a new one if none is
/// free or the free one is too small, as for a hash stored with a higher cost), then keeps it.
fn with_work_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let kept = WORK_MEMORY.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut memory = match kept {
        Some(memory) if memory.len() >= blocks => memory,
        _ => vec![Block::default(); blocks],
    };
    let result = work(&mut memory);
    WORK_MEMORY.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
    result
}

/// Argon2 of `password` with `salt` (as stored: base64), `output_len` bytes long, in a kept buffer.
fn derive(argon: &Argon2<'_>, password: &[u8], salt: Salt<'_>, output_len: usize) -> anyhow::Result<Output> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("password salt: {e}"))?;
    with_work_memory(argon.params().block_count(), |memory| {
        Output::init_with(output_len, |out| {
            argon.hash_password_into_with_memory(password, salt, out, memory).map_err(Into::into)
        })
    })
    .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of `password` with a new salt.
fn hash_now(password: &[u8]) -> anyhow::Result<String> {
    let params = params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let output = derive(&argon, password, salt.as_salt(), Params::DEFAULT_OUTPUT_LEN)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, with the algorithm, version, cost and salt
/// written in it (a hash stored under an older cost still verifies).
fn matches(password: &[u8], stored: &str) -> anyhow::Result<bool> {
    let malformed =
        |e: argon2::password_hash::Error| anyhow::anyhow!("stored password hash is malformed: {e}");
    let parsed = PasswordHash::new(stored).map_err(malformed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(anyhow::anyhow!("stored password hash has no salt or no hash"));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(malformed)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
    let params = Params::try_from(&parsed).map_err(malformed)?;
    let argon = Argon2::new(algorithm, version.unwrap_or_default(), params);
    let computed = derive(&argon, password, salt, expected.len())?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    in_hashing_slot(move || hash_now(password.expose_secret().as_bytes())).await
}

/// A hash of a random password, verified against when the email is unknown so the response
/// takes as long as for a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = SaltString::generate(&mut OsRng);
        hash_now(random.as_str().as_bytes()).expect("hashing a random password")
    })
}

/// Checks a password against a stored hash; `None` (unknown user) is checked against a dummy hash
/// and always fails.
pub async fn verify(password: SecretString, stored: Option<String>) -> anyhow::Result<bool> {
    in_hashing_slot(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let matched = matches(password.expose_secret().as_bytes(), &stored)?;
        Ok(known && matched)
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

    /// Hashes stored before the kept buffers (made by the library's own `hash_password`) verify,
    /// and new ones verify with the library's own `verify_password`: the format is unchanged.
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_library_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let library = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let salt = SaltString::generate(&mut OsRng);
        let older = library.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert!(verify(SecretString::from("correct horse battery"), Some(older.clone())).await.unwrap());
        assert!(!verify(SecretString::from("correct horse batterz"), Some(older)).await.unwrap());

        let ours = hash(SecretString::from("correct horse battery")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(library.verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(library.verify_password(b"correct horse batterz", &parsed).is_err());
    }

    /// A hash stored under another cost (here a lower one, and argon2i) is verified with the cost
    /// written in it.
    #[tokio::test]
    async fn a_hash_stored_under_another_cost_still_verifies() {
        use argon2::password_hash::PasswordHasher;
        let cheaper =
            Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(8 * 1024, 3, 1, None).unwrap());
        let salt = SaltString::generate(&mut OsRng);
        let stored = cheaper.hash_password(b"an older password", &salt).unwrap().to_string();
        assert!(stored.starts_with("$argon2i$v=19$m=8192,t=3,p=1$"), "{stored}");
        assert!(verify(SecretString::from("an older password"), Some(stored.clone())).await.unwrap());
        assert!(!verify(SecretString::from("an older passworf"), Some(stored)).await.unwrap());
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_match() {
        let answer = verify(SecretString::from("anything"), Some("$argon2id$v=19$m=oops".into())).await;
        assert!(answer.is_err(), "{answer:?}");
    }

    #[tokio::test]
    async fn unknown_users_never_verify_even_with_the_dummy_password() {
        assert!(!verify(SecretString::from("anything at all"), None).await.unwrap());
    }
}
