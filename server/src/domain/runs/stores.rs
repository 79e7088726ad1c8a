//! Opening the secret store of a run's target (cached), and its preflight. (A secret value is
//! decrypted for a copy beside its sealing, in `domain::secrets::sealing`.)
//!
//! A run keeps a snapshot of its target (`providers::RunTarget`) taken at launch, so cleanup
//! still knows where its copies are after the compute environment is edited or deleted.

use crate::crypto::SecretBytes;
use crate::db::credentials::{self, SealedCredentialsRow};
use crate::domain::Core;
use crate::providers::{self, HostIdentity, PreflightFailure, ProviderError, RunTarget, SharedStore, Target};
use app::error::AppError;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Open stores, and recent preflight passes. Cloud clients are costly to build and safe to
/// share. Both maps are bounded (least recently used goes first), since their keys hold settings
/// people type: a forgotten store is only opened again, a forgotten pass only checked again.
pub struct StoreCache {
    open: Mutex<LruCache<StoreKey, SharedStore>>,
    /// When each target of a workspace last passed its preflight: launches within
    /// `PREFLIGHT_FRESH_MS` reuse it instead of making a probe copy every time.
    passed: Mutex<LruCache<(i64, RunTarget), i64>>,
}

/// What an open store was opened with: a store is reused only while all of it is the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct StoreKey {
    workspace_id: i64,
    /// The version of the credentials the store holds (the pinned one, or the current one at
    /// open): replaced credentials must not keep working through a client opened with the old.
    credentials_version: Option<i64>,
    /// The workspace's host identity grant, read at every open so a withdrawn grant takes effect
    /// at once.
    host_identity: Option<String>,
    /// The version of the managed credentials (a cluster account's SSH key) the store holds; the
    /// account itself is the target's `managed_credentials_id`, so two launchers' accounts never
    /// share a store or a connection.
    managed_credentials_version: Option<i64>,
    target: RunTarget,
}

const MAX_OPEN_STORES: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");
const MAX_PREFLIGHT_PASSES: NonZeroUsize = NonZeroUsize::new(1024).expect("non-zero");

impl Default for StoreCache {
    fn default() -> Self {
        StoreCache {
            open: Mutex::new(LruCache::new(MAX_OPEN_STORES)),
            passed: Mutex::new(LruCache::new(MAX_PREFLIGHT_PASSES)),
        }
    }
}

const PREFLIGHT_FRESH_MS: i64 = 5 * 60_000;

const CREDENTIALS_DELETED: &str =
    "the compute environment's credentials were deleted; an admin must choose new ones";

const NO_CLOUD_SESSION: &str =
    "an environment with a managed cloud identity is reached only as the identity of a run or of the user \
     checking it";

const MANAGED_CREDENTIALS_DELETED: &str =
    "the cluster credentials (managed identity) this run uses were deleted; its files on the cluster \
     cannot be reached as that account any more";

impl Core {
    /// The store of a target, opened once and then reused.
    pub async fn store_for(
        &self,
        workspace_id: i64,
        target: &RunTarget,
    ) -> Result<SharedStore, ProviderError> {
        if target.config.cloud_identity.is_some() && target.cloud_session.is_none() {
            // Never the host's identity nor anyone else's: a managed environment is reached only
            // as the identity of a run (or of the user checking it).
            return Err(ProviderError::Rejected(NO_CLOUD_SESSION.into()));
        }
        let unavailable =
            |e: sqlx::Error| ProviderError::Unavailable(format!("could not read the credentials: {e}"));
        // A target that follows the current credentials reads their row once: its version goes
        // into the key, and a miss opens the keys from it. A pinned version never changes, so a
        // pinned target reads its credentials only on a miss.
        let current = match (target.credentials_id, target.credentials_version) {
            (Some(id), None) => Some(
                credentials::find_sealed(&self.db.pool, workspace_id, id)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| ProviderError::Rejected(CREDENTIALS_DELETED.into()))?,
            ),
            _ => None,
        };
        let host_external_id = self.host_identity_for_store(workspace_id).await.map_err(unavailable)?;
        let managed_credentials_version = match target.managed_credentials_id {
            Some(id) => Some(
                self.managed_credentials_version(id)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| ProviderError::Rejected(MANAGED_CREDENTIALS_DELETED.into()))?,
            ),
            None => None,
        };
        let key = StoreKey {
            workspace_id,
            credentials_version: target.credentials_version.or(current.as_ref().map(|row| row.version)),
            host_identity: host_external_id,
            managed_credentials_version,
            target: target.clone(),
        };
        if let Some(store) = self.stores.open.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(store.clone());
        }
        let credentials = match (target.managed_credentials_id, target.credentials_id) {
            (Some(id), _) => Some(self.account_keys(id).await?),
            (None, Some(id)) => {
                Some(self.target_credentials(workspace_id, id, target.credentials_version, current).await?)
            }
            (None, None) => None,
        };
        let credentials_file = self.aws_host_credentials_file.as_deref();
        let host_identity =
            crate::domain::compute::host_identity::for_target(key.host_identity.as_deref(), credentials_file);
        // Google's client falls back to the host's Application Default Credentials when it has
        // neither keys nor an emulator endpoint: the same grant applies.
        let google_ambient = target.platform == app::model::Platform::GoogleBatch
            && credentials.is_none()
            && target.cloud_session.is_none()
            && target.config.endpoint_url.as_deref().is_none_or(|e| e.trim().is_empty());
        if google_ambient && host_identity == HostIdentity::Refused {
            return Err(ProviderError::Rejected(crate::domain::compute::host_identity::NOT_ALLOWED.into()));
        }
        let opening = Target {
            platform: target.platform,
            config: &target.config,
            credentials: credentials.as_ref(),
            install_id: &self.install_id,
            host_identity,
            managed_identity: target.cloud_session.as_ref().map(|session| self.managed_identity_for(session)),
        };
        // Checked again at every open: cloud endpoints against the allow-list, HPC work
        // directories against the work roots (issue 10, items 4 and 6).
        let store = providers::open_checked(opening, &self.endpoints, &self.hpc_host).await?;
        self.stores.open.lock().unwrap_or_else(|e| e.into_inner()).put(key, store.clone());
        Ok(store)
    }

    /// The environment's credentials (at `version` when the run pinned one), decrypted for the
    /// provider client (never logged). `current` is their row when `store_for` already read it.
    async fn target_credentials(
        &self,
        workspace_id: i64,
        credentials_id: i64,
        version: Option<i64>,
        current: Option<SealedCredentialsRow>,
    ) -> Result<SecretBytes, ProviderError> {
        let opened = match current {
            Some(current) => self.open_credentials_from(workspace_id, credentials_id, current, version).await,
            None => self.open_credentials_version(workspace_id, credentials_id, version).await,
        };
        match opened {
            Ok((_provider, keys)) => Ok(keys),
            Err(AppError::NotFound(_)) if version.is_some() => Err(ProviderError::Rejected(
                "the credentials this run was launched with are no longer kept; its copies cannot be reached"
                    .into(),
            )),
            Err(AppError::NotFound(_)) => Err(ProviderError::Rejected(CREDENTIALS_DELETED.into())),
            Err(_) => Err(ProviderError::Unavailable("the credentials could not be read".into())),
        }
    }

    /// A cluster account's SSH key (managed credentials), decrypted for the SSH client only.
    async fn account_keys(&self, managed_credentials_id: i64) -> Result<SecretBytes, ProviderError> {
        match self.managed_keys(managed_credentials_id).await {
            Ok(Some(keys)) => Ok(keys),
            Ok(None) => Err(ProviderError::Rejected(MANAGED_CREDENTIALS_DELETED.into())),
            Err(_) => Err(ProviderError::Unavailable("the cluster credentials could not be read".into())),
        }
    }

    /// The target's preflight for a launch: a pass less than five minutes old stands.
    pub async fn preflight_for_launch(
        &self,
        workspace_id: i64,
        target: &RunTarget,
    ) -> Result<(), PreflightFailure> {
        let key = (workspace_id, target.clone());
        let now = crate::domain::now_ms();
        let fresh = self
            .stores
            .passed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .is_some_and(|at| now - at < PREFLIGHT_FRESH_MS);
        if fresh {
            return Ok(());
        }
        self.preflight_target(workspace_id, target).await?;
        self.stores.passed.lock().unwrap_or_else(|e| e.into_inner()).put(key, now);
        Ok(())
    }

    /// Runs the target's preflight. Its failure, in the words a launcher or an admin reads.
    pub async fn preflight_target(
        &self,
        workspace_id: i64,
        target: &RunTarget,
    ) -> Result<(), PreflightFailure> {
        self.preflight_seeing_host_key(workspace_id, target).await.map(|_| ())
    }

    /// Runs the target's preflight; on success, the host key the store saw (`SHA256:…`) for a
    /// target that pins one (a cluster reached over SSH), so a Check can record it.
    pub async fn preflight_seeing_host_key(
        &self,
        workspace_id: i64,
        target: &RunTarget,
    ) -> Result<Option<String>, PreflightFailure> {
        let store = self.store_for(workspace_id, target).await.map_err(|error| {
            match (&target.cloud_session, error) {
            // A managed identity's exchange was refused: the message names the fix and its values.
            (Some(session), ProviderError::Rejected(message)) => PreflightFailure {
                step: format!("act as {} with Strongroom's token", session.acts_as()),
                message,
                fix: "Configure the cloud as the compute environment's Identity section shows: the issuer, \
                      the audience, and this subject in the role's trust policy (AWS) or the provider's \
                      attribute condition and the service account's grants (Google)."
                    .into(),
            },
            (_, error) => PreflightFailure {
                step: "open the compute environment".into(),
                message: error.to_string(),
                fix: "Check the compute environment's settings and credentials.".into(),
            },
        }
        })?;
        store.preflight().await?;
        // An Azure app registration the run's head job will act as: Azure must accept it too.
        if let Some(session) = &target.cloud_session {
            self.check_azure_app(session).await?;
        }
        Ok(store.host_key_seen())
    }
}

/// A preflight failure as one message: what failed, why, and the fix.
pub fn preflight_message(failure: &PreflightFailure) -> String {
    format!(
        "The compute environment's check failed at \"{}\": {}\n\nHow to fix it: {}",
        failure.step, failure.message, failure.fix
    )
}
