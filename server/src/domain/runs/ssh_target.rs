//! The target of an HPC environment reached over SSH, as one cluster account sees it.
//!
//! An environment with shared SSH credentials is its own target. An environment that uses a
//! managed identity (`config.managedIdentityId`) names a cluster, not an account: each launch
//! runs as the launcher's own registered account, so its target copies the identity's
//! `hostName`, `port` and pinned `hostKeyFingerprint` into the config, sets `userName` to the
//! launcher's cluster account and names their managed credentials (`managed_credentials_id`),
//! which the run's cleanup uses whatever happens to the environment later. The reconciler looks
//! in every registered account's directory; a Check connects as the checking user's own account
//! when they registered one.
//!
//! Guarantees: no launch on an SSH environment without a pinned host key, and no launch on a
//! managed identity by someone who registered no account for it — both refused before anything
//! is created, with what to do.

use crate::db::{managed_credentials, workspaces};
use crate::domain::identities::for_launch::{self, ManagedIdentityTarget};
use crate::domain::{internal, Core};
use crate::providers::RunTarget;
use app::error::AppError;
use app::model::CLUSTER_CREDENTIALS_PAGE;

/// The refusal of a launch on an SSH environment whose cluster host key is not pinned yet.
pub const NO_HOST_KEY: &str =
    "Run Check on this compute environment first: it records the cluster's host key.";

/// What a managed identity lends a target: the cluster's address and pinned host key.
pub struct Cluster<'a> {
    pub host_name: &'a str,
    pub port: u16,
    pub host_key_fingerprint: Option<&'a str>,
}

fn cluster_of(identity: &ManagedIdentityTarget) -> Cluster<'_> {
    Cluster {
        host_name: &identity.host_name,
        port: identity.port,
        host_key_fingerprint: identity.host_key_fingerprint.as_deref(),
    }
}

/// `target` as one account of `cluster` sees it: `account` is the managed credentials' id and
/// cluster user name (`None`: no account, a connect-and-host-key check only).
pub fn on_cluster(target: &RunTarget, cluster: &Cluster<'_>, account: Option<(i64, &str)>) -> RunTarget {
    let mut resolved = target.clone();
    let config = &mut resolved.config;
    config.host_name = Some(cluster.host_name.to_string());
    config.port = Some(cluster.port);
    config.host_key_fingerprint = cluster.host_key_fingerprint.map(str::to_string);
    config.user_name = account.map(|(_, user_name)| user_name.to_string());
    resolved.managed_credentials_id = account.map(|(id, _)| id);
    // A managed identity's runs never use the environment's shared credentials.
    resolved.credentials_id = None;
    resolved.credentials_version = None;
    resolved
}

/// Whether a target's cluster host key is pinned.
pub fn is_pinned(target: &RunTarget) -> bool {
    target.config.host_key_fingerprint.as_deref().is_some_and(|f| !f.trim().is_empty())
}

/// How a Check reaches a managed identity's cluster.
pub struct CheckTarget {
    pub target: RunTarget,
    /// Set when the checking user has no account on the identity: only the connection and the
    /// host key can be checked, and the Check says so.
    pub connect_only_note: Option<String>,
}

impl Core {
    /// The target a launch by `launcher` on an environment (`env_name`, its target `target`)
    /// runs on. Unchanged unless the environment is reached over SSH; refused (before anything is
    /// created) when the launcher has no account on its managed identity or no host key is pinned.
    pub(crate) async fn launch_target(
        &self,
        workspace_id: i64,
        env_name: &str,
        target: RunTarget,
        launcher: i64,
    ) -> Result<RunTarget, AppError> {
        if !target.config.uses_ssh(target.platform) {
            return Ok(target);
        }
        let target = match target.config.managed_identity_id {
            None => target,
            Some(identity_id) => {
                let cluster = self.identity_of(workspace_id, env_name, identity_id).await?;
                let account =
                    for_launch::launcher_credentials(self, identity_id, launcher).await.map_err(internal)?;
                let Some(account) = account else {
                    let refusal = for_launch::missing_credentials_message(&cluster.name);
                    return Err(AppError::bad_request(refusal));
                };
                on_cluster(&target, &cluster_of(&cluster), Some((account.id, &account.user_name)))
            }
        };
        if !is_pinned(&target) {
            return Err(AppError::bad_request(NO_HOST_KEY));
        }
        Ok(target)
    }

    /// The target a Check of an environment by `checker` tries: a managed identity's cluster as
    /// the checker's own account, or without one (connect and host key only, said in the note).
    pub(crate) async fn check_target(
        &self,
        workspace_id: i64,
        env_name: &str,
        target: RunTarget,
        checker: i64,
    ) -> Result<CheckTarget, AppError> {
        let Some(identity_id) =
            target.config.managed_identity_id.filter(|_| target.config.uses_ssh(target.platform))
        else {
            return Ok(CheckTarget { target, connect_only_note: None });
        };
        let cluster = self.identity_of(workspace_id, env_name, identity_id).await?;
        let name = &cluster.name;
        let account = for_launch::launcher_credentials(self, identity_id, checker).await.map_err(internal)?;
        let account = account.as_ref().map(|a| (a.id, a.user_name.as_str()));
        let note = account.is_none().then(|| {
            format!(
                "Only the connection and the cluster's host key were checked: you have no cluster \
                 credentials for the managed identity '{name}' (add them under Your cluster credentials, \
                 {CLUSTER_CREDENTIALS_PAGE}, to check the work directory and the scheduler as your account)."
            )
        });
        Ok(CheckTarget {
            target: on_cluster(&target, &cluster_of(&cluster), account),
            connect_only_note: note,
        })
    }

    /// Every account a compute environment's target may have run copies under, for the
    /// reconciler: a managed identity's environment once per registered account; any other
    /// target as it is. An SSH cluster without a pinned host key has none (nothing but a Check
    /// can have reached it).
    pub(crate) async fn account_targets(&self, target: RunTarget) -> anyhow::Result<Vec<RunTarget>> {
        if !target.config.uses_ssh(target.platform) {
            return Ok(vec![target]);
        }
        let identity_id = match target.config.managed_identity_id {
            Some(id) if target.managed_credentials_id.is_none() => id,
            _ => return Ok(vec![target].into_iter().filter(is_pinned).collect()),
        };
        let Some(identity) = for_launch::managed_identity(self, identity_id).await? else {
            return Ok(Vec::new());
        };
        let mut tx = self.db.begin().await?;
        let registered = managed_credentials::ids_of_identity(&mut tx, identity_id).await?;
        tx.commit().await?;
        let mut accounts = Vec::new();
        for credentials_id in registered {
            if let Some(account) = for_launch::credentials_by_id(self, credentials_id).await? {
                let account = Some((account.id, account.user_name.as_str()));
                accounts.push(on_cluster(&target, &cluster_of(&identity), account));
            }
        }
        accounts.retain(is_pinned);
        Ok(accounts)
    }

    /// The environment's managed identity, if it is one of the workspace's organization.
    async fn identity_of(
        &self,
        workspace_id: i64,
        env_name: &str,
        identity_id: i64,
    ) -> Result<ManagedIdentityTarget, AppError> {
        let gone = || {
            AppError::bad_request(format!(
                "The compute environment '{env_name}' uses a managed identity that no longer exists in \
                 this organization; an admin must choose another one."
            ))
        };
        let identity =
            for_launch::managed_identity(self, identity_id).await.map_err(internal)?.ok_or_else(gone)?;
        let org = workspaces::org_of(&self.db.pool, workspace_id).await.map_err(internal)?;
        if org != Some(identity.org_id) {
            return Err(gone());
        }
        Ok(identity)
    }

    /// The version of a cluster account's managed credentials (`None`: they were deleted).
    pub(crate) async fn managed_credentials_version(&self, id: i64) -> Result<Option<i64>, sqlx::Error> {
        Ok(managed_credentials::find_sealed_by_id(&self.db.pool, id).await?.map(|row| row.version))
    }

    /// A cluster account's SSH key document, decrypted for the SSH client only.
    pub(crate) async fn managed_keys(&self, id: i64) -> anyhow::Result<Option<crate::crypto::SecretBytes>> {
        Ok(for_launch::credentials_by_id(self, id).await?.map(|account| account.keys))
    }
}
