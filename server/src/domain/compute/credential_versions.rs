//! Credentials outlive their replacement for as long as a run needs them (issue 10, item 7).
//!
//! A launch pins the version of the credentials it provisions with (`RunTarget::credentials_version`,
//! taken under the credentials' row lock in the launch's own transaction). Replacing the keys
//! keeps the replaced version (`credential_versions`) while a run that is not cleaned yet pinned
//! it, so that run's cleanup deletes its copies in the account it made them in; a version nobody
//! needs any more is deleted. Deleting credentials that such a run uses is refused.

use crate::crypto::{Binding, Sealed, SecretBytes};
use crate::db::{credentials, Tx};
use crate::domain::{internal, Core};
use crate::providers::RunTarget;
use app::error::AppError;
use std::collections::BTreeSet;

/// A run that is not cleaned yet and was launched with given credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunUsingCredentials {
    pub workflow_id: String,
    pub run_name: String,
    /// The version it pinned (`None` for runs launched before versions were pinned).
    pub version: Option<i64>,
}

/// The runs of the workspace, not cleaned yet, whose target uses credentials `credentials_id`.
pub(crate) async fn runs_using(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    credentials_id: i64,
) -> Result<Vec<RunUsingCredentials>, AppError> {
    let runs = credentials::unfinished_runs(tx, workspace_id).await.map_err(internal)?;
    Ok(runs
        .into_iter()
        .filter_map(|run| {
            // A target that does not parse names no credentials we could check; the run's own
            // steps report it.
            let target: RunTarget = serde_json::from_str(&run.target).ok()?;
            (target.credentials_id == Some(credentials_id)).then_some(RunUsingCredentials {
                workflow_id: run.id,
                run_name: run.run_name,
                version: target.credentials_version,
            })
        })
        .collect())
}

/// Deletes the kept versions of the workspace that no run which is not cleaned yet pinned.
pub(crate) async fn forget_unneeded(tx: &mut Tx<'_>, workspace_id: i64) -> Result<usize, AppError> {
    let kept = credentials::retired_versions(tx, workspace_id).await.map_err(internal)?;
    if kept.is_empty() {
        return Ok(0);
    }
    let needed: BTreeSet<(i64, i64)> = credentials::unfinished_runs(tx, workspace_id)
        .await
        .map_err(internal)?
        .into_iter()
        .filter_map(|run| {
            let target: RunTarget = serde_json::from_str(&run.target).ok()?;
            Some((target.credentials_id?, target.credentials_version?))
        })
        .collect();
    let mut forgotten = 0;
    for (id, version) in kept.into_iter().filter(|kept| !needed.contains(kept)) {
        credentials::delete_retired_version(tx, workspace_id, id, version).await.map_err(internal)?;
        forgotten += 1;
    }
    Ok(forgotten)
}

impl Core {
    /// Pins the version of the target's credentials for a run about to be inserted in `tx`. The
    /// row stays locked until `tx` ends, so a concurrent replace either came before (and the new
    /// version is pinned) or waits and then sees this run (and keeps this version).
    pub(crate) async fn pin_credentials(
        &self,
        tx: &mut Tx<'_>,
        workspace_id: i64,
        target: &mut RunTarget,
    ) -> Result<(), AppError> {
        let Some(id) = target.credentials_id else { return Ok(()) };
        let (version, _, _) =
            credentials::lock(tx, workspace_id, id).await.map_err(internal)?.ok_or_else(|| {
                AppError::bad_request(
                    "The compute environment's credentials were deleted; an admin must choose new ones.",
                )
            })?;
        target.credentials_version = Some(version);
        Ok(())
    }

    /// Deletes the kept versions of a workspace no run needs any more (after a run is cleaned).
    pub async fn forget_unneeded_credential_versions(&self, workspace_id: i64) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.map_err(internal)?;
        let forgotten = forget_unneeded(&mut tx, workspace_id).await?;
        tx.commit().await.map_err(internal)?;
        if forgotten > 0 {
            tracing::info!(workspace_id, forgotten, "replaced credentials no run needs any more deleted");
        }
        Ok(())
    }

    /// The provider and the decrypted keys document (JSON, as sealed) of a workspace's
    /// credentials, for the provisioning path only: no role check here, the launch that calls it
    /// has made its own. Records the use. With a `version` (the one a run pinned): the current
    /// row when it still holds that version, the kept version otherwise (`NotFound` when neither
    /// has it).
    #[tracing::instrument(skip_all, fields(workspace_id, credentials_id))]
    pub(crate) async fn open_credentials_version(
        &self,
        workspace_id: i64,
        credentials_id: i64,
        version: Option<i64>,
    ) -> Result<(String, SecretBytes), AppError> {
        let current = credentials::find_sealed(&self.db.pool, workspace_id, credentials_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::not_found("Credentials"))?;
        self.open_credentials_from(workspace_id, credentials_id, current, version).await
    }

    /// `open_credentials_version` with the current row already read (the store cache reads it
    /// once, for its key and then for the keys).
    #[tracing::instrument(skip_all, fields(workspace_id, credentials_id))]
    pub(crate) async fn open_credentials_from(
        &self,
        workspace_id: i64,
        credentials_id: i64,
        current: credentials::SealedCredentialsRow,
        version: Option<i64>,
    ) -> Result<(String, SecretBytes), AppError> {
        let row = match version {
            Some(version) if version != current.version => {
                credentials::find_sealed_version(&self.db.pool, workspace_id, credentials_id, version)
                    .await
                    .map_err(internal)?
                    .ok_or_else(|| AppError::not_found("Credentials"))?
            }
            _ => current,
        };
        let binding = Binding::credentials(workspace_id, credentials_id, row.version);
        let sealed = Sealed { key_id: row.key_id, wrapped_key: row.wrapped_key, ciphertext: row.ciphertext };
        let keys = self.kek.open(&sealed, &binding).map_err(internal)?;
        credentials::mark_used(&self.db.pool, workspace_id, credentials_id, crate::domain::now_ms())
            .await
            .map_err(internal)?;
        Ok((row.provider, keys))
    }
}

/// Before a replace (in its transaction, with the row locked): keeps the current version if a
/// run that is not cleaned yet pinned it.
pub(super) async fn keep_version_for_runs(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    credentials_id: i64,
    current_version: i64,
    now: i64,
) -> Result<(), AppError> {
    let runs = runs_using(tx, workspace_id, credentials_id).await?;
    if runs.iter().any(|run| run.version == Some(current_version)) {
        credentials::retire_current(tx, workspace_id, credentials_id, now).await.map_err(internal)?;
        tracing::info!(
            credentials_id,
            workspace_id,
            version = current_version,
            runs = runs.len(),
            "replaced credentials kept for the runs launched with them"
        );
    }
    Ok(())
}
