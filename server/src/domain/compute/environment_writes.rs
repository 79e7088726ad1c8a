//! Creating, changing and deleting compute environments (owners and admins). Settings are
//! checked per platform (`settings_check`); credentials must be the workspace's own and of
//! the platform's provider.

use super::Compute;
use crate::audit::Event;
use crate::db::{self, compute_envs, credentials, Tx};
use crate::domain::compute::settings_check::{check_config, check_credentials_fit, uses_host_identity};
use crate::domain::{internal, now_ms};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::ComputeEnvChange;

fn not_found() -> AppError {
    AppError::not_found("Compute environment")
}

fn taken(name: &str) -> AppError {
    AppError::conflict(format!("A compute environment named '{name}' already exists in this workspace."))
}

fn event(actor: &SessionUser, action: &'static str, workspace_id: i64, id: i64, name: &str) -> Event {
    Event::by(actor, action).workspace(workspace_id).target(format!("compute environment '{name}' (id {id})"))
}

/// A launch command runs on the Strongroom host itself, as the launch account, so only an
/// instance administrator may set or change one; workspace admins may use environments that
/// have one.
fn check_launch_command(
    actor: &SessionUser,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<(), AppError> {
    if before != after && after.is_some() && !actor.is_instance_admin {
        return Err(AppError::Forbidden(
            "Only an instance administrator may set a launch command: it runs on the Strongroom host.".into(),
        ));
    }
    Ok(())
}

/// The launch command runs in the work directory: moving an environment that has one elsewhere
/// is also an instance administrator's decision.
fn check_work_dir_move(
    actor: &SessionUser,
    before: &ComputeConfig,
    after: &ComputeConfig,
) -> Result<(), AppError> {
    let tidy =
        |dir: &Option<String>| dir.as_deref().map(str::trim).map(|d| d.trim_end_matches('/').to_string());
    let has_command = |c: &ComputeConfig| c.launch_command.as_deref().is_some_and(|c| !c.trim().is_empty());
    let moved = tidy(&before.work_dir) != tidy(&after.work_dir);
    if moved && has_command(after) && !actor.is_instance_admin {
        return Err(AppError::Forbidden(
            "Only an instance administrator may change the workDir of an environment with a launch command: \
             the command runs there on the Strongroom host."
                .into(),
        ));
    }
    Ok(())
}

impl Compute {
    /// Checks the input and, inside `tx`, that the credentials belong to the workspace and fit
    /// the platform (locking them, so they cannot be deleted before this commits).
    async fn checked_env(
        &self,
        tx: &mut Tx<'_>,
        workspace_id: i64,
        input: ComputeEnvInput,
    ) -> Result<(ComputeEnvInput, String), AppError> {
        check_compute_name("compute environment", &input.name).map_err(AppError::BadRequest)?;
        let config = check_config(
            input.platform,
            input.config,
            &self.core.local_work_dir(workspace_id),
            &self.core.hpc_host,
        )?;
        let (provider, public) = match input.credentials_id {
            Some(id) => {
                let (provider, public) =
                    credentials::lock_public(tx, workspace_id, id).await.map_err(internal)?.ok_or_else(
                        || AppError::bad_request("Those credentials do not exist in this workspace."),
                    )?;
                let public: CredentialsPublic = serde_json::from_str(&public).map_err(internal)?;
                (Some(provider.parse::<CloudProvider>().map_err(internal)?), Some(public))
            }
            None => (None, None),
        };
        check_credentials_fit(input.platform, provider)?;
        if uses_host_identity(input.platform, public.as_ref()) {
            self.require_host_identity(workspace_id).await?;
        }
        let json = serde_json::to_string(&config).map_err(internal)?;
        Ok((ComputeEnvInput { config, ..input }, json))
    }

    pub(super) async fn create_compute_env(
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
        let new = compute_envs::NewComputeEnv {
            workspace_id,
            name: &env.name,
            platform: env.platform.kind(),
            config: &config,
            credentials_id: env.credentials_id,
        };
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
    pub(super) async fn update_compute_env(
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
            config: change.config.unwrap_or(current_config),
        };
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let (env, config) = self.checked_env(&mut tx, workspace_id, input).await?;
        let new = compute_envs::NewComputeEnv {
            workspace_id,
            name: &env.name,
            platform: env.platform.kind(),
            config: &config,
            credentials_id: env.credentials_id,
        };
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

    pub(super) async fn delete_compute_env(
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

#[cfg(test)]
mod tests {
    use super::{check_launch_command, check_work_dir_move};
    use app::model::{ComputeConfig, SessionUser};

    fn user(is_instance_admin: bool) -> SessionUser {
        SessionUser { id: 7, email: "u@example.org".into(), display_name: "U".into(), is_instance_admin }
    }

    #[test]
    fn only_instance_admins_set_or_change_a_launch_command() {
        assert!(check_launch_command(&user(false), None, Some("sbatch x")).is_err());
        assert!(check_launch_command(&user(false), Some("a"), Some("b")).is_err());
        assert!(check_launch_command(&user(false), Some("a"), Some("a")).is_ok(), "unchanged is fine");
        assert!(check_launch_command(&user(false), Some("a"), None).is_ok(), "removing is fine");
        assert!(check_launch_command(&user(true), None, Some("sbatch x")).is_ok());
    }

    #[test]
    fn moving_the_work_dir_of_an_environment_with_a_launch_command_needs_an_instance_admin() {
        let at = |dir: &str, command: Option<&str>| ComputeConfig {
            work_dir: Some(dir.into()),
            launch_command: command.map(String::from),
            ..ComputeConfig::default()
        };
        let with = at("/scratch/a", Some("sbatch x"));
        assert!(check_work_dir_move(&user(false), &with, &at("/scratch/b", Some("sbatch x"))).is_err());
        assert!(check_work_dir_move(&user(false), &with, &at("/scratch/a/", Some("sbatch x"))).is_ok());
        assert!(check_work_dir_move(&user(true), &with, &at("/scratch/b", Some("sbatch x"))).is_ok());
        let without = at("/scratch/a", None);
        assert!(check_work_dir_move(&user(false), &without, &at("/scratch/b", None)).is_ok());
        assert!(
            check_work_dir_move(&user(false), &with, &at("/scratch/b", None)).is_ok(),
            "without the command"
        );
    }
}
