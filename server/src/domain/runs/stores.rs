//! Opening the secret store of a run's target (cached), and its preflight. (A secret value is
//! decrypted for a copy beside its sealing, in `domain::secrets::sealing`.)
//!
//! A run keeps a snapshot of its target (platform, settings, credentials id) taken at launch, so
//! cleanup still knows where its copies are after the compute environment is edited or deleted.

use crate::crypto::SecretBytes;
use crate::domain::Core;
use crate::providers::{self, HostIdentity, PreflightFailure, ProviderError, SharedStore, Target};
use app::error::AppError;
use app::model::{ComputeConfig, Platform};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Where a run's copies go, as stored in `runs.target` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTarget {
    pub platform: Platform,
    pub config: ComputeConfig,
    #[serde(default)]
    pub credentials_id: Option<i64>,
    /// The version of the credentials the run was launched with (set at launch, absent for a
    /// Check or a reconciler pass): the run's cleanup opens that version even after the keys are
    /// replaced, so its copies are deleted in the account they were made in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_version: Option<i64>,
}

impl RunTarget {
    /// The target of a compute environment as it is now (what a launch snapshots).
    pub fn of_env(env: &crate::db::compute_envs::ComputeEnvRow) -> Result<RunTarget, String> {
        let config: ComputeConfig = serde_json::from_str(&env.config)
            .map_err(|e| format!("compute environment {} has unreadable settings: {e}", env.id))?;
        let platform = Platform::from_stored(&env.platform, config.scheduler).ok_or_else(|| {
            format!("compute environment {} has an unknown platform '{}'", env.id, env.platform)
        })?;
        Ok(RunTarget { platform, config, credentials_id: env.credentials_id, credentials_version: None })
    }

    /// The form stored in `runs.target` and used to key open stores.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a target always serializes")
    }
}

/// Open stores by (workspace, target): cloud clients are costly to build and safe to share.
/// Both maps are bounded (least recently used goes first), since their keys hold settings people
/// type: a forgotten store is only opened again, a forgotten pass only checked again.
pub struct StoreCache {
    open: Mutex<LruCache<String, SharedStore>>,
    /// When each target last passed its preflight: launches within `PREFLIGHT_FRESH_MS` reuse it
    /// instead of making a probe copy every time.
    passed: Mutex<LruCache<String, i64>>,
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

impl Core {
    /// The store of a target, opened once and then reused.
    pub async fn store_for(
        &self,
        workspace_id: i64,
        target_json: &str,
    ) -> Result<SharedStore, ProviderError> {
        let target: RunTarget = serde_json::from_str(target_json)
            .map_err(|e| ProviderError::Rejected(format!("the run's target is unreadable: {e}")))?;
        let unavailable =
            |e: sqlx::Error| ProviderError::Unavailable(format!("could not read the credentials: {e}"));
        // Replaced credentials must not keep working through a client opened with the old ones:
        // their last change is part of the key (a pinned version never changes).
        let credentials_stamp = match (target.credentials_id, target.credentials_version) {
            (Some(_), Some(version)) => version,
            (Some(id), None) => crate::db::credentials::find(&self.db.pool, workspace_id, id)
                .await
                .map_err(unavailable)?
                .map_or(-1, |row| row.updated_at),
            (None, _) => 0,
        };
        // Read at every open, so a withdrawn grant takes effect at once.
        let host_external_id = self.host_identity_for_store(workspace_id).await.map_err(unavailable)?;
        let key = format!("{workspace_id}/{credentials_stamp}/{host_external_id:?}/{target_json}");
        if let Some(store) = self.stores.open.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(store.clone());
        }
        let credentials = match target.credentials_id {
            Some(id) => Some(self.target_credentials(workspace_id, id, target.credentials_version).await?),
            None => None,
        };
        let credentials_file = self.aws_host_credentials_file.as_deref();
        let host_identity =
            crate::domain::compute::host_identity::for_target(host_external_id.as_deref(), credentials_file);
        // Google's client falls back to the host's Application Default Credentials when it has
        // neither keys nor an emulator endpoint: the same grant applies.
        let google_ambient = target.platform == app::model::Platform::GoogleBatch
            && credentials.is_none()
            && target.config.endpoint_url.as_deref().is_none_or(|e| e.trim().is_empty());
        if google_ambient && host_identity == HostIdentity::Refused {
            return Err(ProviderError::Rejected(crate::domain::compute::host_identity::NOT_ALLOWED.into()));
        }
        let target = Target {
            platform: target.platform,
            config: &target.config,
            credentials: credentials.as_ref(),
            install_id: &self.install_id,
            host_identity,
        };
        // Checked again at every open: cloud endpoints against the allow-list, HPC work
        // directories against the work roots (issue 10, items 4 and 6).
        let store = providers::open_checked(target, &self.endpoints, &self.hpc_host).await?;
        self.stores.open.lock().unwrap_or_else(|e| e.into_inner()).put(key, store.clone());
        Ok(store)
    }

    /// The environment's credentials (at `version` when the run pinned one), decrypted for the
    /// provider client (never logged).
    async fn target_credentials(
        &self,
        workspace_id: i64,
        credentials_id: i64,
        version: Option<i64>,
    ) -> Result<SecretBytes, ProviderError> {
        match self.open_credentials_version(workspace_id, credentials_id, version).await {
            Ok((_provider, keys)) => Ok(keys),
            Err(AppError::NotFound(_)) if version.is_some() => Err(ProviderError::Rejected(
                "the credentials this run was launched with are no longer kept; its copies cannot be reached"
                    .into(),
            )),
            Err(AppError::NotFound(_)) => Err(ProviderError::Rejected(
                "the compute environment's credentials were deleted; an admin must choose new ones".into(),
            )),
            Err(_) => Err(ProviderError::Unavailable("the credentials could not be read".into())),
        }
    }

    /// The target's preflight for a launch: a pass less than five minutes old stands.
    pub async fn preflight_for_launch(
        &self,
        workspace_id: i64,
        target_json: &str,
    ) -> Result<(), PreflightFailure> {
        let key = format!("{workspace_id}/{target_json}");
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
        self.preflight_target(workspace_id, target_json).await?;
        self.stores.passed.lock().unwrap_or_else(|e| e.into_inner()).put(key, now);
        Ok(())
    }

    /// Runs the target's preflight. Its failure, in the words a launcher or an admin reads.
    pub async fn preflight_target(
        &self,
        workspace_id: i64,
        target_json: &str,
    ) -> Result<(), PreflightFailure> {
        let store = self.store_for(workspace_id, target_json).await.map_err(|error| PreflightFailure {
            step: "open the compute environment".into(),
            message: error.to_string(),
            fix: "Check the compute environment's settings and credentials.".into(),
        })?;
        store.preflight().await
    }
}

/// A preflight failure as one message: what failed, why, and the fix.
pub fn preflight_message(failure: &PreflightFailure) -> String {
    format!(
        "The compute environment's check failed at \"{}\": {}\n\nHow to fix it: {}",
        failure.step, failure.message, failure.fix
    )
}
