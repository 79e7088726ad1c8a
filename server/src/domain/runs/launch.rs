//! Launching a run (the `LaunchPort`, with what the launch form offers): check the request, work
//! out the effective set of secrets, check the target really works (preflight), then commit the
//! run and one planned copy per secret — before any call to a cloud or a file system. The worker
//! (`crate::jobs`) does the copying from there.

use super::Runs;
use crate::audit::Event;
use crate::db::secrets::{self, Owner};
use crate::db::{compute_envs, run_copies, runs};
use crate::domain::compute::cloud_identity::session_for;
use crate::domain::identities::for_launch;
use crate::domain::runs::launch_fields::check_launch_fields;
use crate::domain::runs::launch_input::{check_pipeline, check_revision, check_run_name};
use crate::domain::runs::stores::preflight_message;
use crate::domain::{internal, now_ms, Core};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::LaunchPort;
use async_trait::async_trait;
use rand::Rng;

const WORKFLOW_ID_LEN: usize = 14;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Both stores cap a launch; Nextflow reads them all at start.
pub const MAX_SECRETS_PER_LAUNCH: usize = 200;

/// A 14-character base62 workflow id, like Seqera's (`1k0K4WlGep8ZTM`).
pub fn new_workflow_id() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..WORKFLOW_ID_LEN).map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char).collect()
}

/// Finds the named secrets of one owner, or says which names do not exist.
async fn resolve(services: &Core, owner: Owner, names: &[String]) -> Result<Vec<(i64, String)>, AppError> {
    let found = secrets::ids_by_name(&services.db.pool, owner, names).await.map_err(internal)?;
    let missing: Vec<&str> =
        names.iter().filter(|n| !found.iter().any(|(_, f)| f == *n)).map(String::as_str).collect();
    if missing.is_empty() {
        return Ok(found);
    }
    let whose = match owner {
        Owner::Workspace(_) => "This workspace has no secret named",
        Owner::User(_) => "You have no secret named",
    };
    Err(AppError::bad_request(format!("{whose} {}.", missing.join(", "))))
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut names: Vec<String> =
        names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
    names.sort();
    names.dedup();
    names
}

impl Runs {
    /// The compute environment a launch uses: the one named, or the workspace's only one.
    async fn launch_env_row(
        &self,
        workspace_id: i64,
        id: Option<i64>,
    ) -> Result<compute_envs::ComputeEnvRow, AppError> {
        if let Some(id) = id {
            return compute_envs::find(&self.core.db.pool, workspace_id, id)
                .await
                .map_err(internal)?
                .ok_or_else(|| {
                    AppError::bad_request("That compute environment does not exist in this workspace.")
                });
        }
        let mut all = compute_envs::list(&self.core.db.pool, workspace_id).await.map_err(internal)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(AppError::bad_request(
                "This workspace has no compute environment; an admin must add one first.",
            )),
            _ => Err(AppError::bad_request("Choose a compute environment for this launch.")),
        }
    }

    /// A launch refused by the preflight is recorded like any refusal, with the reason.
    async fn denied_launch(&self, actor: &SessionUser, workspace_id: i64, refusal: AppError) -> AppError {
        let event = Event::by(actor, "run.launched")
            .outcome(crate::audit::Outcome::Failed)
            .workspace(workspace_id)
            .detail("the compute environment's preflight check failed");
        self.core.record(event).await;
        refusal
    }
}

#[async_trait]
impl LaunchPort for Runs {
    /// What the launch form offers the caller in this workspace.
    async fn launch_options(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<LaunchOptions, AppError> {
        let compute_envs = self.compute_envs.list_compute_envs(actor, workspace_id).await?;
        let scope = SecretScope::Workspace(workspace_id);
        let workspace = self.secrets.list_secrets(actor, scope, String::new(), 10_000, 0).await?;
        let mine = self.secrets.list_secrets(actor, SecretScope::Mine, String::new(), 10_000, 0).await?;
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        Ok(LaunchOptions {
            compute_envs: compute_envs.iter().map(|env| LaunchEnv::offered_to(env, actor.id)).collect(),
            workspace_secrets: workspace.items.into_iter().map(|s| s.name).collect(),
            user_secrets: mine.items.into_iter().map(|s| s.name).collect(),
            can_launch: access.role.allows(Permission::LaunchWorkflow),
            last_compute_env_id: runs::last_compute_env(&self.core.db.pool, access.workspace_id(), actor.id)
                .await
                .map_err(internal)?,
        })
    }

    async fn launch(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        request: LaunchRequest,
    ) -> Result<String, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::LaunchWorkflow).await?;
        let workspace_id = access.workspace_id();
        let pipeline = request.pipeline.trim().to_string();
        check_pipeline(&pipeline)?;
        let workflow_id = new_workflow_id();
        let run_name = match request.run_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => format!("run-{}", workflow_id.to_lowercase()),
        };
        check_run_name(&run_name)?;
        let revision =
            request.revision.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        if let Some(revision) = &revision {
            check_revision(revision)?;
        }
        // The cap comes before any query by name, so an oversized request costs no lookups.
        let workspace_names = dedup(&request.workspace_secrets);
        let user_names = dedup(&request.user_secrets);
        let effective = effective_set(&workspace_names, &user_names);
        if effective.len() > MAX_SECRETS_PER_LAUNCH {
            return Err(AppError::bad_request(format!(
                "A launch can take up to {MAX_SECRETS_PER_LAUNCH} secrets."
            )));
        }
        let env = self.launch_env_row(workspace_id, request.compute_env_id).await?;
        let target = env.target().map_err(internal)?;
        let launch_fields = check_launch_fields(target.platform, request.launch_fields)?;
        let launch_fields = (!launch_fields.is_empty())
            .then(|| serde_json::to_string(&launch_fields))
            .transpose()
            .map_err(internal)?;
        // Over SSH: the launcher's own cluster account on a managed identity, a pinned host key.
        let mut target = match self.core.launch_target(workspace_id, &env.name, target, actor.id).await {
            Ok(target) => target,
            Err(refusal @ AppError::BadRequest(_)) => {
                return Err(self.core.denied(actor, Some(workspace_id), refusal).await)
            }
            Err(error) => return Err(error),
        };

        // A managed cloud identity: the run acts as the identity mapped to its subject.
        if let Some(identity) = &target.config.cloud_identity {
            let facts = crate::oidc::claims::RunFacts {
                org_id: access.workspace.org_id,
                workspace_id,
                user_id: actor.id,
                pipeline: pipeline.clone(),
                workflow_id: Some(workflow_id.clone()),
                compute_env_id: env.id.to_string(),
                launch_role: access.role.as_str().to_string(),
            };
            match session_for(identity, &facts, request.cloud_identity_mapping) {
                Ok(session) => target.cloud_session = Some(session),
                Err(refusal) => {
                    return Err(self
                        .core
                        .denied(actor, Some(workspace_id), AppError::bad_request(refusal))
                        .await)
                }
            }
        }

        let workspace_found = resolve(&self.core, Owner::Workspace(workspace_id), &workspace_names).await?;
        let user_found = resolve(&self.core, Owner::User(actor.id), &user_names).await?;
        if target.platform == Platform::AwsBatch
            && target.config.custom_job_definition == Some(true)
            && !effective.is_empty()
        {
            return Err(AppError::bad_request(format!(
                "The compute environment '{}' uses a custom job definition, and processes with a custom job \
                 definition get no secrets from AWS Batch. Launch without secrets, or use a compute \
                 environment where Strongroom registers the job definition.",
                env.name
            )));
        }

        if let Err(failure) = self.core.preflight_for_launch(workspace_id, &target).await {
            return Err(self
                .denied_launch(actor, workspace_id, AppError::bad_request(preflight_message(&failure)))
                .await);
        }

        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        // The run keeps the credentials version it provisions with, whatever replaces it later.
        self.core.pin_credentials(&mut tx, workspace_id, &mut target).await?;
        // A cluster account's credentials cannot be changed or deleted under a run that uses them.
        if let Some(account) = target.managed_credentials_id {
            let locked = for_launch::lock_for_run(&mut tx, account).await.map_err(internal)?;
            if !locked {
                return Err(AppError::bad_request(
                    "Your cluster credentials for this managed identity were removed meanwhile; add them \
                     again and launch again.",
                ));
            }
        }
        let new = runs::NewRun {
            id: &workflow_id,
            workspace_id,
            compute_env_id: Some(env.id),
            launched_by: actor.id,
            run_name: &run_name,
            pipeline: &pipeline,
            revision: revision.as_deref(),
            target: Some(&target),
            stage: RunStage::Provisioning,
            session_id: None,
            launch_fields: launch_fields.as_deref(),
        };
        runs::insert(&mut tx, new, now).await.map_err(internal)?;
        for secret in &effective {
            let (owner, found) = match secret.source {
                SecretSource::Workspace => (Owner::Workspace(workspace_id), &workspace_found),
                SecretSource::User => (Owner::User(actor.id), &user_found),
            };
            let id =
                found.iter().find(|(_, n)| *n == secret.name).map(|(id, _)| *id).ok_or(AppError::Internal)?;
            run_copies::insert_planned(&mut tx, &workflow_id, &secret.name, secret.source, id, now)
                .await
                .map_err(internal)?;
            secrets::touch_last_used(&mut tx, owner, id, now).await.map_err(internal)?;
        }
        let names: Vec<&str> = effective.iter().map(|e| e.name.as_str()).collect();
        let event = Event::by(actor, "run.launched")
            .workspace(workspace_id)
            .target(format!("run {workflow_id} ({run_name})"))
            .detail(format!("pipeline {pipeline} on '{}'; secrets: {}", env.name, names.join(", ")));
        self.core.commit_audited(tx, event).await?;
        self.core.wake_workers();
        tracing::info!(workflow_id = %workflow_id, workspace_id, copies = effective.len(), "run launched");
        Ok(workflow_id)
    }
}

impl Core {
    /// Tells idle workers there is work (a launch or an end); they also poll.
    pub fn wake_workers(&self) {
        self.worker_wake.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_ids_are_fourteen_base62_characters_and_differ() {
        let a = new_workflow_id();
        assert_eq!(a.len(), 14);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, new_workflow_id());
    }
}
