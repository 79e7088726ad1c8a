//! The envelope decoder (`Kek::open`, `Kek::rewrap`): on any stored bytes it answers without
//! panicking, and opens nothing it did not seal. A value sealed here opens to itself under the
//! same binding only: any altered byte of the wrapped key or the ciphertext, any other binding
//! (another kind, owner, row or version) or another key is refused; rewrapping under a new key
//! keeps the value.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretBox};
use server::crypto::{Binding, CryptoError, Kek, Sealed, SecretBytes};

/// Where a value belongs, built only through the named constructors as the server builds it.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    WorkspaceSecret(i64, i64, i64),
    UserSecret(i64, i64, i64),
    Credentials(i64, i64, i64),
    ManagedCredentials(i64, i64, i64, i64),
}

impl Place {
    fn binding(self) -> Binding<'static> {
        match self {
            Place::WorkspaceSecret(owner, id, version) => Binding::secret("workspace", owner, id, version),
            Place::UserSecret(owner, id, version) => Binding::secret("user", owner, id, version),
            Place::Credentials(ws, id, version) => Binding::credentials(ws, id, version),
            Place::ManagedCredentials(identity, user, id, version) => {
                Binding::managed_credentials(identity, user, id, version)
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    key: [u8; 32],
    other_key: [u8; 32],
    /// Stored columns as a database (or an attacker with write access to it) could hold them.
    stored: (String, Vec<u8>, Vec<u8>),
    value: Vec<u8>,
    place: Place,
    elsewhere: Place,
    /// Which byte of the sealed value to flip, and how.
    flip: (bool, usize, u8),
}

fn kek(bytes: [u8; 32]) -> Kek {
    Kek::new(SecretBox::new(Box::new(bytes)))
}

fuzz_target!(|input: Input| {
    let key = kek(input.key);
    let binding = input.place.binding();

    // Arbitrary stored bytes: refused (they were never sealed), never a panic.
    let (key_id, wrapped_key, ciphertext) = input.stored;
    let forged = Sealed { key_id: key.id().to_string(), wrapped_key, ciphertext };
    assert!(key.open(&forged, &binding).is_err(), "opened bytes it never sealed");
    let foreign = Sealed { key_id, ..forged };
    if foreign.key_id != key.id() {
        assert!(matches!(key.open(&foreign, &binding), Err(CryptoError::UnknownKey(_))));
    }

    // A real seal round-trips, and only under its own binding and key.
    let sealed = key.seal(&SecretBytes::from(input.value.clone()), &binding);
    let opened = key.open(&sealed, &binding).expect("a fresh seal opens");
    assert_eq!(opened.expose_secret(), input.value.as_slice());
    if input.elsewhere != input.place {
        let moved = input.elsewhere.binding();
        assert_eq!(key.open(&sealed, &moved).err(), Some(CryptoError::Tampered), "opened somewhere else");
    }

    let (in_key, index, mask) = input.flip;
    let mut altered = sealed.clone();
    let target = if in_key { &mut altered.wrapped_key } else { &mut altered.ciphertext };
    let at = index % target.len();
    target[at] ^= mask.max(1);
    assert_eq!(key.open(&altered, &binding).err(), Some(CryptoError::Tampered), "opened an altered value");

    let other = kek(input.other_key);
    if input.other_key != input.key {
        assert!(other.open(&sealed, &binding).is_err(), "opened under another key");
        let rewrapped = key.rewrap(&other, &sealed, &binding).expect("rewraps its own seal");
        assert_eq!(rewrapped.ciphertext, sealed.ciphertext, "rewrapping leaves the ciphertext alone");
        let reopened = other.open(&rewrapped, &binding).expect("opens under the new key");
        assert_eq!(reopened.expose_secret(), input.value.as_slice());
        assert!(key.open(&rewrapped, &binding).is_err(), "the old key no longer opens it");
    }
});
