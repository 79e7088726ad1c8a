//! Envelope encryption for values stored at rest (pipeline secrets, cloud credentials), and the
//! key hierarchy behind it.
//!
//! The hierarchy: one key-encryption key (KEK) per instance, in the key file (`kek_file`) and
//! known to the database by id and check value only (`kek_registry`); under it, one random data
//! key per stored value (`envelope`), bound to its row (`binding`); a new KEK takes over by
//! re-wrapping every data key (`rotation`).
//!
//! Guarantees:
//! - The KEK lives in the key file (or `STRONGROOM_KEY`) only, never in the database, a log line
//!   or an error message.
//! - Every stored value gets its own random 256-bit data key (DEK); the DEK is stored wrapped
//!   (AES-256-GCM under the KEK) next to the ciphertext (AES-256-GCM under the DEK).
//! - Nonces are random 96-bit values, fresh for each encryption.
//! - The associated data binds each ciphertext and each wrapped key to its row (scope, owner id,
//!   secret id and version), so a row copied to another secret, workspace or version fails to
//!   decrypt instead of yielding someone else's value.
//! - Plaintext exists only in `SecretBytes`, which cannot be printed or serialized and is zeroed
//!   on drop.

mod binding;
mod envelope;
pub mod kek_file;
pub mod kek_registry;
pub mod rotation;

pub use binding::Binding;
pub use envelope::*;
