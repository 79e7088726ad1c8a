//! Compute environments: the `ComputeEnvsPort` (listing and describing for every participant;
//! creating, changing and deleting for owners and admins, with the rules of
//! `environment_rules`), and the `local` environment every new workspace starts with.

use super::environment_rules::{check_launch_command, check_work_dir_move};
use super::Compute;
use crate::audit::Event;
use crate::db::{self, compute_envs, Tx};
use crate::domain::{internal, now_ms, Core};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::{ComputeEnvChange, ComputeEnvsPort};
use async_trait::async_trait;

/// The name of the environment every new workspace starts with.
pub const LOCAL_ENV_NAME: &str = "local";

fn not_found() -> AppError {
    AppError::not_found("Compute environment")
}

fn taken(name: &str) -> AppError {
    AppError::conflict(format!("A compute environment named '{name}' already exists in this workspace."))
}

fn event(actor: &SessionUser, action: &'static str, workspace_id: i64, id: i64, name: &str) -> Event {
    Event::by(actor, action).workspace(workspace_id).target(format!("compute environment '{name}' (id {id})"))
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

#[async_trait]
impl ComputeEnvsPort for Compute {
    async fn list_compute_envs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<ComputeEnvSummary>, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let rows = compute_envs::list(&self.core.db.pool, access.workspace_id()).await.map_err(internal)?;
        rows.into_iter().map(summary).collect()
    }

    async fn describe_compute_env(
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

    async fn create_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        input: ComputeEnvInput,
    ) -> Result<i64, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        check_launch_command(actor, None, input.config.launch_command.as_deref())?;
        self.check_endpoint_allowed(actor, input.platform, None, input.config.endpoint_url.as_deref())
            .await?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let (env, config) = self.checked_env(&mut tx, workspace_id, input).await?;
        let new = new_row(workspace_id, &env, &config);
        let id = match compute_envs::insert(&mut tx, new, now_ms()).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => return Err(taken(&env.name)),
            Err(e) => return Err(internal(e)),
        };
        let event = event(actor, "compute_env.created", workspace_id, id, &env.name)
            .detail(format!("platform {}", env.platform));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(compute_env_id = id, workspace_id, by = actor.id, "compute environment created");
        Ok(id)
    }

    /// Renames an environment or replaces its settings or credentials; the platform stays.
    async fn update_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
        change: ComputeEnvChange,
    ) -> Result<(), AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        let current = compute_envs::find(&self.core.db.pool, workspace_id, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let current_config: ComputeConfig = serde_json::from_str(&current.config).map_err(internal)?;
        let platform = Platform::from_stored(&current.platform, current_config.scheduler)
            .ok_or_else(|| internal(format!("compute environment {id} has an unknown platform")))?;
        if let Some(config) = &change.config {
            check_launch_command(
                actor,
                current_config.launch_command.as_deref(),
                config.launch_command.as_deref(),
            )?;
            let (before, after) = (current_config.endpoint_url.as_deref(), config.endpoint_url.as_deref());
            self.check_endpoint_allowed(actor, platform, before, after).await?;
            check_work_dir_move(actor, &current_config, config)?;
        }
        let input = ComputeEnvInput {
            name: change.name.unwrap_or(current.name.clone()),
            platform,
            credentials_id: change.credentials_id.unwrap_or(current.credentials_id),
            config: match change.config {
                Some(config) => keep_pinned_host_key(&current_config, config),
                None => current_config,
            },
        };
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let (env, config) = self.checked_env(&mut tx, workspace_id, input).await?;
        let new = new_row(workspace_id, &env, &config);
        match compute_envs::update(&mut tx, workspace_id, id, new, now_ms()).await {
            Ok(true) => {}
            Ok(false) => return Err(not_found()),
            Err(e) if db::is_unique_violation(&e) => return Err(taken(&env.name)),
            Err(e) => return Err(internal(e)),
        }
        let detail =
            if env.name == current.name { String::new() } else { format!("renamed from '{}'", current.name) };
        self.core
            .commit_audited(
                tx,
                event(actor, "compute_env.updated", workspace_id, id, &env.name).detail(detail),
            )
            .await?;
        tracing::info!(compute_env_id = id, workspace_id, by = actor.id, "compute environment updated");
        Ok(())
    }

    async fn delete_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<(), AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let name =
            compute_envs::delete(&mut tx, workspace_id, id).await.map_err(internal)?.ok_or_else(not_found)?;
        self.core.commit_audited(tx, event(actor, "compute_env.deleted", workspace_id, id, &name)).await?;
        tracing::info!(compute_env_id = id, workspace_id, by = actor.id, "compute environment deleted");
        Ok(())
    }
}

/// The row a checked environment is written as, on create and on update alike.
fn new_row<'a>(
    workspace_id: i64,
    env: &'a ComputeEnvInput,
    config: &'a str,
) -> compute_envs::NewComputeEnv<'a> {
    compute_envs::NewComputeEnv {
        workspace_id,
        name: &env.name,
        platform: env.platform.kind(),
        config,
        credentials_id: env.credentials_id,
    }
}

/// A changed configuration that leaves out the pinned host key keeps it while it points at the
/// same host (forms and clients that know nothing of pinning must not drop a pin by accident); a
/// new host, or a new fingerprint given by the admin, replaces it.
fn keep_pinned_host_key(current: &ComputeConfig, mut new: ComputeConfig) -> ComputeConfig {
    let same_host = current.host_name == new.host_name && current.port == new.port;
    if new.host_key_fingerprint.is_none() && same_host {
        new.host_key_fingerprint = current.host_key_fingerprint.clone();
    }
    new
}
