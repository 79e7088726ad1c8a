//! Opening the secret store of a run's target, and the one place a secret value is decrypted for
//! provisioning.
//!
//! A run keeps a snapshot of its target (platform, settings, credentials id) taken at launch, so
//! cleanup still knows where its copies are after the compute environment is edited or deleted.

use super::{internal, Services};
use crate::crypto::{Binding, Sealed, SecretBytes};
use crate::db::secrets::{self, Owner};
use crate::providers::{self, PreflightFailure, ProviderError, SharedStore, Target};
use app::error::AppError;
use app::model::{ComputeConfig, Platform};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Where a run's copies go, as stored in `runs.target` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTarget {
    pub platform: Platform,
    pub config: ComputeConfig,
    #[serde(default)]
    pub credentials_id: Option<i64>,
}

impl RunTarget {
    /// The target of a compute environment as it is now (what a launch snapshots).
    pub fn of_env(env: &crate::db::compute_envs::ComputeEnvRow) -> Result<RunTarget, String> {
        let config: ComputeConfig = serde_json::from_str(&env.config)
            .map_err(|e| format!("compute environment {} has unreadable settings: {e}", env.id))?;
        let platform = Platform::from_stored(&env.platform, config.scheduler)
            .ok_or_else(|| format!("compute environment {} has an unknown platform '{}'", env.id, env.platform))?;
        Ok(RunTarget { platform, config, credentials_id: env.credentials_id })
    }

    /// The form stored in `runs.target` and used to key open stores.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a target always serializes")
    }
}

/// Open stores by (workspace, target): cloud clients are costly to build and safe to share.
#[derive(Default)]
pub struct StoreCache {
    open: Mutex<HashMap<String, SharedStore>>,
    /// When each target last passed its preflight: launches within `PREFLIGHT_FRESH_MS` reuse it
    /// instead of making a probe copy every time.
    passed: Mutex<HashMap<String, i64>>,
}

const PREFLIGHT_FRESH_MS: i64 = 5 * 60_000;

impl Services {
    /// The store of a target, opened once and then reused.
    pub async fn store_for(&self, workspace_id: i64, target_json: &str) -> Result<SharedStore, ProviderError> {
        let target: RunTarget = serde_json::from_str(target_json)
            .map_err(|e| ProviderError::Rejected(format!("the run's target is unreadable: {e}")))?;
        // Replaced credentials must not keep working through a client opened with the old ones:
        // their last change is part of the key.
        let credentials_stamp = match target.credentials_id {
            Some(id) => crate::db::credentials::find(&self.db.pool, workspace_id, id)
                .await
                .map_err(|e| ProviderError::Unavailable(format!("could not read the credentials: {e}")))?
                .map_or(-1, |row| row.updated_at),
            None => 0,
        };
        let key = format!("{workspace_id}/{credentials_stamp}/{target_json}");
        if let Some(store) = self.stores.open.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(store.clone());
        }
        let credentials = match target.credentials_id {
            Some(id) => Some(self.target_credentials(workspace_id, id).await?),
            None => None,
        };
        let store = providers::open_with_hpc(
            Target {
                platform: target.platform,
                config: &target.config,
                credentials: credentials.as_ref(),
                install_id: &self.install_id,
            },
            &self.hpc_host,
        )
        .await?;
        self.stores.open.lock().unwrap_or_else(|e| e.into_inner()).insert(key, store.clone());
        Ok(store)
    }

    /// The environment's credentials, decrypted for the provider client (never logged).
    async fn target_credentials(&self, workspace_id: i64, credentials_id: i64) -> Result<SecretBytes, ProviderError> {
        match self.open_credentials(workspace_id, credentials_id).await {
            Ok((_provider, keys)) => Ok(keys),
            Err(AppError::NotFound(_)) => Err(ProviderError::Rejected(
                "the compute environment's credentials were deleted; an admin must choose new ones".into(),
            )),
            Err(_) => Err(ProviderError::Unavailable("the credentials could not be read".into())),
        }
    }

    /// The target's preflight for a launch: a pass less than five minutes old stands.
    pub async fn preflight_for_launch(&self, workspace_id: i64, target_json: &str) -> Result<(), PreflightFailure> {
        let key = format!("{workspace_id}/{target_json}");
        let now = super::now_ms();
        let fresh = self.stores.passed.lock().unwrap_or_else(|e| e.into_inner()).get(&key).is_some_and(|at| now - at < PREFLIGHT_FRESH_MS);
        if fresh {
            return Ok(());
        }
        self.preflight_target(workspace_id, target_json).await?;
        self.stores.passed.lock().unwrap_or_else(|e| e.into_inner()).insert(key, now);
        Ok(())
    }

    /// Runs the target's preflight. Its failure, in the words a launcher or an admin reads.
    pub async fn preflight_target(&self, workspace_id: i64, target_json: &str) -> Result<(), PreflightFailure> {
        let store = self.store_for(workspace_id, target_json).await.map_err(|error| PreflightFailure {
            step: "open the compute environment".into(),
            message: error.to_string(),
            fix: "Check the compute environment's settings and credentials.".into(),
        })?;
        store.preflight().await
    }

    /// Decrypts a secret's current value for a copy. `None` when the secret no longer exists.
    pub(crate) async fn open_secret_for_copy(&self, owner: Owner, secret_id: i64) -> Result<Option<SecretBytes>, AppError> {
        let Some(row) = secrets::find_sealed(&self.db.pool, owner, secret_id).await.map_err(internal)? else {
            return Ok(None);
        };
        let binding = Binding { scope: owner.scope(), owner_id: owner.id(), item_id: row.id, version: row.version };
        let sealed = Sealed { key_id: row.key_id, wrapped_key: row.wrapped_key, ciphertext: row.ciphertext };
        self.kek.open(&sealed, &binding).map(Some).map_err(internal)
    }
}

/// A preflight failure as one message: what failed, why, and the fix.
pub fn preflight_message(failure: &PreflightFailure) -> String {
    format!(
        "The compute environment's check failed at \"{}\": {}\n\nHow to fix it: {}",
        failure.step, failure.message, failure.fix
    )
}
