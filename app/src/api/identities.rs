//! Managed identities for the Identities page (organization owners) and each member's own
//! cluster credentials for "Your cluster credentials". The SSH key and passphrase arrive as form
//! text and become `SecretString` at once; nothing here returns them.

use crate::error::AppError;
use crate::model::{ClusterCredentialsEntry, ManagedCredentialsSummary, ManagedIdentity, Platform};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {
    super::context::*,
    crate::model::{ManagedIdentityChange, ManagedIdentityInput, PinnedKeyChange},
    crate::ports::{ManagedCredentialsInput, ManagedCredentialsQuery, SshKeysInput},
};

/// The UI lists at most this many identities or members at once.
#[cfg(feature = "ssr")]
const UI_LIMIT: i64 = 1000;

/// Empty form fields are absent.
#[cfg(feature = "ssr")]
fn given(value: String) -> Option<String> {
    Some(value).filter(|v| !v.trim().is_empty())
}

/// An empty key field keeps the registered key (on replace) or is refused (on add).
#[cfg(feature = "ssr")]
fn credentials_input(user_name: String, private_key: String, passphrase: String) -> ManagedCredentialsInput {
    let keys = given(private_key)
        .map(|key| SshKeysInput { private_key: key.into(), passphrase: given(passphrase).map(Into::into) });
    ManagedCredentialsInput { user_name: given(user_name), keys }
}

#[server(prefix = "/sfn", endpoint = "list_identities")]
pub async fn list_identities(org_id: i64) -> Result<Vec<ManagedIdentity>, AppError> {
    finish(ports()?.identities.list_identities(&actor()?, org_id, None, UI_LIMIT, 0).await.map(|p| p.items))
}

#[server(prefix = "/sfn", endpoint = "create_identity")]
pub async fn create_identity(
    org_id: i64,
    name: String,
    platform: Platform,
    host_name: String,
    port: u16,
    host_key_fingerprint: String,
) -> Result<ManagedIdentity, AppError> {
    let input = ManagedIdentityInput {
        name,
        platform,
        host_name,
        port: Some(port),
        host_key_fingerprint: given(host_key_fingerprint),
    };
    finish(ports()?.identities.create_identity(&actor()?, org_id, input).await)
}

/// An empty fingerprint unpins the host key (the next successful Check records it).
#[server(prefix = "/sfn", endpoint = "update_identity")]
pub async fn update_identity(
    org_id: i64,
    identity_id: i64,
    name: String,
    host_name: String,
    port: u16,
    host_key_fingerprint: String,
) -> Result<(), AppError> {
    let pin = given(host_key_fingerprint).map_or(PinnedKeyChange::Remove, PinnedKeyChange::Set);
    let change = ManagedIdentityChange {
        name: Some(name),
        host_name: Some(host_name),
        port: Some(port),
        host_key_fingerprint: pin,
    };
    finish(ports()?.identities.update_identity(&actor()?, org_id, identity_id, change).await)
}

#[server(prefix = "/sfn", endpoint = "delete_identity")]
pub async fn delete_identity(org_id: i64, identity_id: i64) -> Result<(), AppError> {
    finish(ports()?.identities.delete_identity(&actor()?, org_id, identity_id).await.map_err(AppError::from))
}

/// Every member of the organization with their credentials on the identity (owners), or the
/// caller alone (members).
#[server(prefix = "/sfn", endpoint = "list_identity_members")]
pub async fn list_identity_members(
    org_id: i64,
    identity_id: i64,
) -> Result<Vec<ManagedCredentialsSummary>, AppError> {
    let query = ManagedCredentialsQuery { max: UI_LIMIT, ..ManagedCredentialsQuery::default() };
    let page = ports()?.identities.list_managed_credentials(&actor()?, org_id, identity_id, query).await;
    finish(page.map(|p| p.items))
}

#[server(prefix = "/sfn", endpoint = "your_cluster_credentials")]
pub async fn your_cluster_credentials() -> Result<Vec<ClusterCredentialsEntry>, AppError> {
    finish(ports()?.identities.your_cluster_credentials(&actor()?).await)
}

#[server(prefix = "/sfn", endpoint = "add_cluster_credentials")]
pub async fn add_cluster_credentials(
    org_id: i64,
    identity_id: i64,
    user_name: String,
    private_key: String,
    passphrase: String,
) -> Result<i64, AppError> {
    let input = credentials_input(user_name, private_key, passphrase);
    finish(ports()?.identities.create_managed_credentials(&actor()?, org_id, identity_id, input).await)
}

/// An empty key keeps the registered one (only the account changes).
#[server(prefix = "/sfn", endpoint = "replace_cluster_credentials")]
pub async fn replace_cluster_credentials(
    org_id: i64,
    identity_id: i64,
    credentials_id: i64,
    user_name: String,
    private_key: String,
    passphrase: String,
) -> Result<(), AppError> {
    let input = credentials_input(user_name, private_key, passphrase);
    let result = ports()?
        .identities
        .update_managed_credentials(&actor()?, org_id, identity_id, credentials_id, input)
        .await;
    finish(result.map_err(AppError::from))
}

/// The caller's own, or (organization owners) anyone's.
#[server(prefix = "/sfn", endpoint = "delete_cluster_credentials")]
pub async fn delete_cluster_credentials(
    org_id: i64,
    identity_id: i64,
    credentials_id: i64,
) -> Result<(), AppError> {
    let result =
        ports()?.identities.delete_managed_credentials(&actor()?, org_id, identity_id, credentials_id).await;
    finish(result.map_err(AppError::from))
}
