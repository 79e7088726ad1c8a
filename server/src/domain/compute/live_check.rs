//! The "Check" of a compute environment (`ComputeCheckPort`): the same preflight a launch runs,
//! on demand, with its outcome kept as the environment's status (`AVAILABLE` or `INVALID`).
//!
//! For a cluster reached over SSH, the first successful Check pins the host key it saw: in the
//! environment's `hostKeyFingerprint`, or in its managed identity's (`record_host_key`), only
//! when none is pinned yet, and says so ("Host key SHA256:… recorded"). A pinned key is never
//! replaced here: a different key fails the preflight before anything is sent. A managed
//! identity's environment is checked as the checking user's own cluster account when they
//! registered one; otherwise only the connection and the host key are checked, and the result
//! says so.

use super::Compute;
use crate::audit::{Event, Outcome};
use crate::db::compute_envs::{self, ComputeEnvRow};
use crate::domain::compute::cloud_identity::session_for;
use crate::domain::runs::ssh_target::is_pinned;
use crate::domain::{internal, now_ms, Core};
use crate::policy::authorize_workspace;
use crate::providers::PreflightFailure;
use app::error::AppError;
use app::model::{ComputeCheck, ComputeConfig, Permission, SessionUser};
use app::ports::ComputeCheckPort;
use async_trait::async_trait;

#[async_trait]
impl ComputeCheckPort for Compute {
    async fn check_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<ComputeCheck, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        let env = compute_envs::find(&self.core.db.pool, workspace_id, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::not_found("Compute environment"))?;
        let mut target = env.target().map_err(internal)?;
        // A managed cloud identity is checked as the checking user's own: a real exchange.
        let mut refusal = None;
        if let Some(identity) = &target.config.cloud_identity {
            let facts = check_facts(identity, &access, actor.id, id);
            match session_for(identity, &facts, None) {
                Ok(session) => target.cloud_session = Some(session),
                Err(message) => refusal = Some(PreflightFailure {
                    step: "find the cloud identity mapped for you".into(),
                    message,
                    fix: "A workspace owner or admin maps your subject to a cloud identity in the environment's \
                              Identity section."
                        .into(),
                }),
            }
        }
        let checked = self.core.check_target(workspace_id, &env.name, target, actor.id).await?;
        let outcome = match (refusal, &checked.connect_only_note) {
            (Some(failure), _) => Err(failure),
            // No account to log in as: the login node and its host key only.
            (None, Some(_)) => self.core.host_key_only(&checked.target.config).await.map(Some),
            (None, None) => self.core.preflight_seeing_host_key(workspace_id, &checked.target).await,
        };
        let check = match &outcome {
            Ok(seen) => {
                let mut notes = Vec::new();
                if let Some(seen) = seen.as_deref().filter(|_| !is_pinned(&checked.target)) {
                    if self.core.pin_host_key(&env, seen).await.map_err(internal)? {
                        notes.push(format!("Host key {seen} recorded."));
                    }
                }
                notes.extend(checked.connect_only_note.clone());
                let message = (!notes.is_empty()).then(|| notes.join(" "));
                ComputeCheck { status: "AVAILABLE".into(), message, fix: None }
            }
            Err(failure) => ComputeCheck {
                status: "INVALID".into(),
                message: Some(format!("Could not {}: {}", failure.step, failure.message)),
                fix: Some(failure.fix.clone()),
            },
        };
        compute_envs::set_status(&self.core.db.pool, workspace_id, id, &check.status, now_ms())
            .await
            .map_err(internal)?;
        let detail = match &check.message {
            Some(message) if outcome.is_ok() => format!("{}: {message}", check.status),
            _ => check.status.clone(),
        };
        let event = Event::by(actor, "compute_env.checked")
            .workspace(workspace_id)
            .target(format!("compute environment '{}' (id {id})", env.name))
            .outcome(if outcome.is_ok() { Outcome::Ok } else { Outcome::Failed })
            .detail(detail);
        self.core.record(event).await;
        Ok(check)
    }
}

/// The facts of a Check's token: the checking user in their role, no run; per pipeline, the first
/// mapped pipeline stands for the environment.
fn check_facts(
    identity: &app::model::CloudIdentity,
    access: &crate::policy::WorkspaceAccess,
    user_id: i64,
    env_id: i64,
) -> crate::oidc::claims::RunFacts {
    let pipeline = match identity.subject {
        app::model::SubjectGranularity::Pipeline => identity.mappings.iter().find_map(|m| m.pipeline.clone()),
        _ => None,
    };
    crate::oidc::claims::RunFacts {
        org_id: access.workspace.org_id,
        workspace_id: access.workspace_id(),
        user_id,
        pipeline: pipeline.unwrap_or_default(),
        workflow_id: None,
        compute_env_id: env_id.to_string(),
        launch_role: access.role.as_str().to_string(),
    }
}

impl Core {
    /// Reaches the cluster of `config` for its host key alone (checked against the pinned one),
    /// if the instance's endpoint rules let this server connect to it.
    async fn host_key_only(&self, config: &ComputeConfig) -> Result<String, PreflightFailure> {
        let host = config.host_name.as_deref().unwrap_or_default();
        let port = config.port.unwrap_or(crate::providers::ssh::DEFAULT_PORT);
        self.endpoints.check_ssh_host(host, port, true).await.map_err(|message| PreflightFailure {
            step: "reach the cluster".into(),
            message,
            fix: "An instance administrator lists the login node, or the managed identity names a public \
                  host."
                .into(),
        })?;
        let pinned = config.host_key_fingerprint.as_deref().filter(|f| !f.trim().is_empty());
        crate::providers::ssh::probe_host_key(host, port, pinned).await
    }

    /// Pins `seen` as the cluster's host key of `env` (or of its managed identity) if none is
    /// pinned yet. Whether it pinned it (false: someone pinned or edited meanwhile).
    async fn pin_host_key(&self, env: &ComputeEnvRow, seen: &str) -> anyhow::Result<bool> {
        let mut config: ComputeConfig = serde_json::from_str(&env.config)?;
        if let Some(identity_id) = config.managed_identity_id {
            return crate::domain::identities::for_launch::record_host_key(self, identity_id, seen).await;
        }
        if config.host_key_fingerprint.as_deref().is_some_and(|f| !f.trim().is_empty()) {
            return Ok(false);
        }
        config.host_key_fingerprint = Some(seen.to_string());
        let pinned = serde_json::to_string(&config)?;
        let pool = &self.db.pool;
        let done = compute_envs::replace_config_if_unchanged(
            pool,
            env.workspace_id,
            env.id,
            &env.config,
            &pinned,
            now_ms(),
        )
        .await?;
        if done {
            tracing::info!(compute_env_id = env.id, host_key = seen, "cluster host key pinned by a Check");
        }
        Ok(done)
    }
}
