//! The associated data (AAD) that ties a sealed value to the row it belongs to.
//!
//! Guarantees: both encryptions of a value (the value under its data key, the data key under the
//! key-encryption key) carry the same binding, which names the kind of thing sealed, its owner,
//! its id and its version. A row copied to another secret, owner, workspace or version, or a
//! secret's data key swapped into a set of credentials, fails to open instead of yielding
//! someone else's value. The bytes are part of the stored format: changing them makes every
//! stored value unreadable, so the named constructors below are the only way to build a binding.

use super::envelope::ALGORITHM;

/// Where a sealed value belongs. Holds no secret: ids and a scope name only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<'a> {
    /// `workspace` or `user` (a pipeline secret's owner), `credentials` or `managed-credentials`.
    scope: &'a str,
    /// Managed credentials only: their managed identity, named before the owner (the member).
    /// `None` keeps the older scopes' stored format unchanged.
    parent_id: Option<i64>,
    owner_id: i64,
    item_id: i64,
    version: i64,
}

/// The scope bound into cloud credentials (and their kept versions).
const CREDENTIALS_SCOPE: &str = "credentials";
/// The scope bound into a member's own SSH key for a managed identity.
const MANAGED_CREDENTIALS_SCOPE: &str = "managed-credentials";

impl<'a> Binding<'a> {
    /// A pipeline secret. `owner_scope` is the `secrets.scope` column (`workspace` or `user`, as
    /// `db::secrets::Owner::scope` spells it) and `owner_id` that workspace's or user's id.
    pub fn secret(owner_scope: &'a str, owner_id: i64, secret_id: i64, version: i64) -> Binding<'a> {
        Binding { scope: owner_scope, parent_id: None, owner_id, item_id: secret_id, version }
    }

    /// A set of cloud credentials, or a replaced version of it kept for its runs: bound to the
    /// workspace and to the credentials' id (a kept version keeps that id, not its own row id).
    pub fn credentials(workspace_id: i64, credentials_id: i64, version: i64) -> Binding<'static> {
        Binding {
            scope: CREDENTIALS_SCOPE,
            parent_id: None,
            owner_id: workspace_id,
            item_id: credentials_id,
            version,
        }
    }

    /// A member's managed credentials (cluster account key): bound to the managed identity, the
    /// member (user id) and the row, so a key moved to another identity or member does not open.
    pub fn managed_credentials(
        identity_id: i64,
        user_id: i64,
        credentials_id: i64,
        version: i64,
    ) -> Binding<'static> {
        Binding {
            scope: MANAGED_CREDENTIALS_SCOPE,
            parent_id: Some(identity_id),
            owner_id: user_id,
            item_id: credentials_id,
            version,
        }
    }

    /// The associated data of one of the two encryptions (`part`: `value` or `key`).
    pub(super) fn aad(&self, part: &str) -> Vec<u8> {
        let parent = self.parent_id.map(|id| format!("{id}/")).unwrap_or_default();
        format!(
            "strongroom/{ALGORITHM}/{part}/{}/{parent}{}/{}/{}",
            self.scope, self.owner_id, self.item_id, self.version
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored format: every value sealed so far opens only with exactly these bytes.
    #[test]
    fn the_associated_data_keeps_its_stored_format() {
        assert_eq!(
            Binding::secret("workspace", 7, 11, 2).aad("value"),
            b"strongroom/AES-256-GCM/envelope-v1/value/workspace/7/11/2"
        );
        assert_eq!(
            Binding::secret("user", 3, 5, 1).aad("key"),
            b"strongroom/AES-256-GCM/envelope-v1/key/user/3/5/1"
        );
        assert_eq!(
            Binding::credentials(4, 9, 3).aad("key"),
            b"strongroom/AES-256-GCM/envelope-v1/key/credentials/4/9/3"
        );
        assert_eq!(
            Binding::managed_credentials(6, 8, 10, 1).aad("value"),
            b"strongroom/AES-256-GCM/envelope-v1/value/managed-credentials/6/8/10/1"
        );
    }
}
