//! Compute environments: listing and describing (every participant), and the `local`
//! environment every new workspace starts with.

use super::Compute;
use crate::db::{compute_envs, Tx};
use crate::domain::{internal, Core};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;

/// The name of the environment every new workspace starts with.
pub const LOCAL_ENV_NAME: &str = "local";

fn not_found() -> AppError {
    AppError::not_found("Compute environment")
}

fn summary(row: compute_envs::ComputeEnvRow) -> Result<ComputeEnvSummary, AppError> {
    let config: ComputeConfig = serde_json::from_str(&row.config).map_err(internal)?;
    let platform = Platform::from_stored(&row.platform, config.scheduler).ok_or_else(|| {
        internal(format!("compute environment {} has an unknown platform '{}'", row.id, row.platform))
    })?;
    Ok(ComputeEnvSummary {
        id: row.id,
        workspace_id: row.workspace_id,
        name: row.name,
        platform,
        status: row.status,
        config,
        credentials_id: row.credentials_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

impl Core {
    /// The work directory of the workspace's `local` environment: `<data_dir>/work/<workspace_id>`.
    pub fn local_work_dir(&self, workspace_id: i64) -> std::path::PathBuf {
        self.data_dir.join("work").join(workspace_id.to_string())
    }

    /// Adds the `local` environment (HPC, local scheduler) to a workspace being created, inside
    /// the caller's transaction. Not audited on its own: it is part of `workspace.created`.
    pub(crate) async fn insert_local_compute_env(
        &self,
        tx: &mut Tx<'_>,
        workspace_id: i64,
        now: i64,
    ) -> Result<i64, AppError> {
        let config = ComputeConfig {
            scheduler: Some(HpcScheduler::Local),
            work_dir: Some(self.local_work_dir(workspace_id).to_string_lossy().into_owned()),
            ..ComputeConfig::default()
        };
        let config = serde_json::to_string(&config).map_err(internal)?;
        let new = compute_envs::NewComputeEnv {
            workspace_id,
            name: LOCAL_ENV_NAME,
            platform: Platform::Local.kind(),
            config: &config,
            credentials_id: None,
        };
        compute_envs::insert(tx, new, now).await.map_err(internal)
    }
}

impl Compute {
    pub(super) async fn list_compute_envs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<ComputeEnvSummary>, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let rows = compute_envs::list(&self.core.db.pool, access.workspace_id()).await.map_err(internal)?;
        rows.into_iter().map(summary).collect()
    }

    pub(super) async fn describe_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<ComputeEnvSummary, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        compute_envs::find(&self.core.db.pool, access.workspace_id(), id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)
            .and_then(summary)
    }
}
