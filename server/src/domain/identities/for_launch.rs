//! What the launch path (launch, head job, cleanup, reconciler, Check) needs of managed
//! identities. Free functions on `&Core`, with no role check of their own: their callers have
//! made theirs (the launcher's workspace role, the run's own target).
//!
//! - `managed_identity(id)`: the cluster a managed-identity environment reaches (host, port,
//!   pinned host key, platform) and its organization, which the caller compares with the
//!   environment's.
//! - `launcher_credentials(identity, user)`: the launcher's own cluster account and decrypted
//!   SSH key; `None` when they have not registered (refuse the launch with
//!   `missing_credentials_message`).
//! - `credentials_by_id(id)`: the same by the id a run's target recorded (`managedCredentialsId`),
//!   for the run's steps and cleanup. Managed credentials cannot be changed or deleted while a
//!   run that is not cleaned yet uses them (409), so the row a run names is the key it was
//!   launched with; no replaced version is kept.
//! - `lock_for_run(tx, id)`: call in the launch's transaction before inserting the run, so a
//!   concurrent delete either came first (the launch then fails) or sees the run (and refuses).
//! - `record_host_key(identity, fingerprint)`: pins the key a successful Check saw, only when
//!   none is pinned yet.
//!
//! Guarantees: the key document is decrypted only here (through `sealing::open`) and only into
//! `SecretBytes`; `LauncherCredentials` prints nothing of it.

use super::{identity_from_row, sealing};
use crate::audit::Event;
use crate::crypto::SecretBytes;
use crate::db::{managed_credentials, managed_identities, Tx};
use crate::domain::{now_ms, Core};
use anyhow::Context;
use app::model::{check_host_key_fingerprint, Platform, CLUSTER_CREDENTIALS_PAGE};

/// The cluster a managed identity describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedIdentityTarget {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub platform: Platform,
    pub host_name: String,
    pub port: u16,
    /// `SHA256:…`; `None` until pinned (an SSH store then opens for a Check only).
    pub host_key_fingerprint: Option<String>,
}

/// One member's cluster account and SSH key on a managed identity.
pub struct LauncherCredentials {
    /// The managed credentials id (`RunTarget::managed_credentials_id`).
    pub id: i64,
    pub identity_id: i64,
    pub user_id: i64,
    /// The cluster (POSIX) account, the SSH login name.
    pub user_name: String,
    /// Seqera's `SSHSecurityKeys` JSON: `{"privateKey": "…", "passphrase": "…"}` (passphrase
    /// absent when the key has none).
    pub keys: SecretBytes,
}

pub async fn managed_identity(
    core: &Core,
    identity_id: i64,
) -> anyhow::Result<Option<ManagedIdentityTarget>> {
    let Some(row) = managed_identities::find_by_id(&core.db.pool, identity_id).await? else {
        return Ok(None);
    };
    let identity = identity_from_row(row)?;
    Ok(Some(ManagedIdentityTarget {
        id: identity.id,
        org_id: identity.org_id,
        name: identity.name,
        platform: identity.platform,
        host_name: identity.config.host_name,
        port: identity.config.port,
        host_key_fingerprint: identity.config.host_key_fingerprint,
    }))
}

/// The launcher's own credentials on the identity, decrypted; records the use.
#[tracing::instrument(skip_all, fields(identity_id, user_id))]
pub async fn launcher_credentials(
    core: &Core,
    identity_id: i64,
    user_id: i64,
) -> anyhow::Result<Option<LauncherCredentials>> {
    let Some(row) = managed_credentials::find_sealed(&core.db.pool, identity_id, user_id).await? else {
        return Ok(None);
    };
    let id = row.id;
    let credentials = opened(core, row)?;
    managed_credentials::mark_used(&core.db.pool, id, now_ms()).await?;
    Ok(Some(credentials))
}

/// The credentials a run's target names, decrypted.
#[tracing::instrument(skip_all, fields(managed_credentials_id))]
pub async fn credentials_by_id(
    core: &Core,
    managed_credentials_id: i64,
) -> anyhow::Result<Option<LauncherCredentials>> {
    match managed_credentials::find_sealed_by_id(&core.db.pool, managed_credentials_id).await? {
        Some(row) => opened(core, row).map(Some),
        None => Ok(None),
    }
}

fn opened(core: &Core, row: managed_credentials::SealedRow) -> anyhow::Result<LauncherCredentials> {
    let (id, identity_id, user_id, user_name) = (row.id, row.identity_id, row.user_id, row.user_name.clone());
    let keys = sealing::open(&core.kek, row)?;
    Ok(LauncherCredentials { id, identity_id, user_id, user_name, keys })
}

/// Locks the credentials for a run about to be inserted in `tx`; false when they are gone.
pub async fn lock_for_run(tx: &mut Tx<'_>, managed_credentials_id: i64) -> anyhow::Result<bool> {
    Ok(managed_credentials::lock_by_id(tx, managed_credentials_id).await?)
}

/// Pins `fingerprint` as the identity's host key if none is pinned. Returns true when it was
/// recorded, false when a key was already pinned (that key stays: only an owner replaces it).
pub async fn record_host_key(core: &Core, identity_id: i64, fingerprint: &str) -> anyhow::Result<bool> {
    check_host_key_fingerprint(fingerprint).map_err(anyhow::Error::msg)?;
    let mut tx = core.db.begin().await?;
    let row =
        managed_identities::lock(&mut tx, identity_id).await?.context("the managed identity is gone")?;
    let (org_id, name) = (row.org_id, row.name.clone());
    let mut identity = identity_from_row(row)?;
    if identity.config.host_key_fingerprint.is_some() {
        tx.rollback().await?;
        return Ok(false);
    }
    identity.config.host_key_fingerprint = Some(fingerprint.to_string());
    let config = serde_json::to_string(&identity.config)?;
    managed_identities::update(&mut tx, org_id, identity_id, &name, &config, now_ms()).await?;
    let event = Event::anonymous("strongroom", "managed_identity.host_key_recorded")
        .target(format!("managed identity '{name}' (id {identity_id})"))
        .detail(format!("host key {fingerprint} pinned by a successful Check"));
    core.commit_audited(tx, event).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(identity_id, org_id, "managed identity's host key recorded");
    Ok(true)
}

/// The launch's refusal for a launcher with no credentials on the identity: what to add, where.
pub fn missing_credentials_message(identity_name: &str) -> String {
    format!(
        "You have no cluster credentials for the managed identity '{identity_name}'. Add your cluster \
         username and SSH key under Your cluster credentials ({CLUSTER_CREDENTIALS_PAGE}) and launch again."
    )
}
