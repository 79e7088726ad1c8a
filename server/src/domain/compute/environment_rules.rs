//! The rules a new or changed compute environment must pass beyond its role check (the writes
//! themselves are `ComputeEnvsPort`, in `environments`): settings checked per platform
//! (`settings_check`), credentials that are the workspace's own and of the platform's provider,
//! and what only an instance administrator may decide (a launch command, and moving the work
//! directory it runs in).

use super::Compute;
use crate::db::{credentials, workspaces, Tx};
use crate::domain::compute::settings_check::{check_config, check_credentials_fit, uses_host_identity};
use crate::domain::identities::for_launch;
use crate::domain::internal;
use app::error::AppError;
use app::model::*;

/// A launch command runs on the Strongroom host itself, as the launch account, so only an
/// instance administrator may set or change one; workspace admins may use environments that
/// have one.
pub(super) fn check_launch_command(
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
pub(super) fn check_work_dir_move(
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
    pub(super) async fn checked_env(
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
        check_credentials_fit(input.platform, &config, provider)?;
        if let (true, Some(host)) = (config.uses_ssh(input.platform), config.host_name.as_deref()) {
            let port = config.port.unwrap_or(crate::providers::ssh::DEFAULT_PORT);
            self.core.endpoints.check_ssh_host(host, port, false).await.map_err(AppError::BadRequest)?;
        }
        if let Some(identity_id) = config.managed_identity_id {
            self.check_managed_identity(workspace_id, input.platform, identity_id).await?;
        }
        let mut config = config;
        if let Some(identity) = config.cloud_identity.as_mut() {
            self.resolve_mapped_emails(workspace_id, identity).await?;
        }
        if uses_host_identity(input.platform, &config, public.as_ref()) {
            self.require_host_identity(workspace_id).await?;
        }
        let json = serde_json::to_string(&config).map_err(internal)?;
        Ok((ComputeEnvInput { config, ..input }, json))
    }
}

impl Compute {
    /// Per-user mappings may name a participant by email: stored by id (an email can change).
    async fn resolve_mapped_emails(
        &self,
        workspace_id: i64,
        identity: &mut CloudIdentity,
    ) -> Result<(), AppError> {
        for (index, mapping) in identity.mappings.iter_mut().enumerate() {
            let Some(email) = mapping.user_email.take() else { continue };
            let (found, _) =
                crate::db::participants::list(&self.core.db.pool, workspace_id, Some(&email), 50, 0)
                    .await
                    .map_err(internal)?;
            match found.into_iter().find(|p| p.email.eq_ignore_ascii_case(&email)) {
                Some(participant) => mapping.user_id = Some(participant.user_id),
                None => {
                    return Err(AppError::bad_request(format!(
                    "Mapping {}: {email} takes no part in this workspace; add them as a participant first.",
                    index + 1
                )))
                }
            }
        }
        Ok(())
    }

    /// A managed identity must be one of the workspace's organization, for the same platform.
    async fn check_managed_identity(
        &self,
        workspace_id: i64,
        platform: Platform,
        identity_id: i64,
    ) -> Result<(), AppError> {
        let org_id = workspaces::org_of(&self.core.db.pool, workspace_id).await.map_err(internal)?;
        let identity = for_launch::managed_identity(&self.core, identity_id).await.map_err(internal)?;
        let Some(identity) = identity.filter(|i| Some(i.org_id) == org_id) else {
            return Err(AppError::bad_request(
                "That managed identity does not exist in this workspace's organization.",
            ));
        };
        if identity.platform != platform {
            return Err(AppError::bad_request(format!(
                "The managed identity '{}' is for {}, not {platform}.",
                identity.name, identity.platform
            )));
        }
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
