//! Lending the Strongroom host's own cloud identity to a workspace (issue 10, item 5): the
//! `HostIdentityPort`, and the grant checks the other compute files make.
//!
//! AWS credentials without access keys, and AWS Batch environments without credentials, act as
//! the host itself (the SDK's default chain: instance role, environment, profile). Any signed-in
//! user can own a workspace, so that is refused unless an instance administrator allowed it for
//! the workspace. An AssumeRole made through the host identity always carries the external id
//! Strongroom generated for the workspace (`strongroom-<uuid>`), never one a user typed: a role's
//! trust policy that requires it can only be assumed on behalf of that workspace.

use super::Compute;
use crate::audit::Event;
use crate::db::{host_identity, workspaces};
use crate::domain::{internal, now_ms, Core};
use crate::providers::HostIdentity;
use app::error::AppError;
use app::model::SessionUser;
use app::ports::{HostIdentityGrant, HostIdentityPort};
use async_trait::async_trait;

/// The refusal when a workspace has not been allowed to use the host identity.
pub const NOT_ALLOWED: &str =
    "These settings would act as the Strongroom host's own cloud identity (no access \
     keys of your own). An instance administrator must allow that for this workspace first \
     (PUT /api/workspaces/{workspaceId}/host-identity); or give an access key id and secret access key.";

fn new_external_id() -> String {
    format!("strongroom-{}", uuid::Uuid::new_v4())
}

impl Core {
    /// What a store of this workspace may do with the host identity (read at every open).
    pub(crate) async fn host_identity_for_store(
        &self,
        workspace_id: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = host_identity::find(&self.db.pool, workspace_id).await?;
        Ok(row.filter(|r| r.allowed == 1).map(|r| r.external_id))
    }
}

impl Compute {
    /// The grant of a workspace; `None` when no instance administrator ever allowed it.
    pub(super) async fn host_identity_grant(
        &self,
        workspace_id: i64,
    ) -> Result<Option<HostIdentityGrant>, AppError> {
        let row = host_identity::find(&self.core.db.pool, workspace_id).await.map_err(internal)?;
        Ok(row.map(|row| HostIdentityGrant { allowed: row.allowed == 1, external_id: row.external_id }))
    }

    /// The external id to use, or the refusal when the workspace may not use the host identity.
    pub(super) async fn require_host_identity(&self, workspace_id: i64) -> Result<String, AppError> {
        match self.host_identity_grant(workspace_id).await? {
            Some(grant) if grant.allowed => Ok(grant.external_id),
            _ => Err(AppError::Forbidden(NOT_ALLOWED.into())),
        }
    }
}

#[async_trait]
impl HostIdentityPort for Compute {
    /// Allows or withdraws the host identity for a workspace: instance administrators only.
    async fn set_host_identity(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        allowed: bool,
    ) -> Result<HostIdentityGrant, AppError> {
        if !actor.is_instance_admin {
            let refusal = AppError::Forbidden(
                "Only an instance administrator may let a workspace use the Strongroom host's cloud identity."
                    .into(),
            );
            return Err(self.core.denied(actor, Some(workspace_id), refusal).await);
        }
        if workspaces::org_of(&self.core.db.pool, workspace_id).await.map_err(internal)?.is_none() {
            return Err(AppError::not_found("Workspace"));
        }
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let row = host_identity::set(&mut tx, workspace_id, allowed, &new_external_id(), actor.id, now_ms())
            .await
            .map_err(internal)?;
        let action =
            if allowed { "workspace.host_identity_allowed" } else { "workspace.host_identity_withdrawn" };
        let event = Event::by(actor, action)
            .workspace(workspace_id)
            .target(format!("workspace {workspace_id}"))
            .detail(format!("external id {}", row.external_id));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(workspace_id, allowed, by = actor.id, "host identity grant changed");
        Ok(HostIdentityGrant { allowed: row.allowed == 1, external_id: row.external_id })
    }
}

/// The provider-facing form of a grant.
pub(crate) fn for_target<'a>(
    external_id: Option<&'a str>,
    credentials_file: Option<&'a std::path::Path>,
) -> HostIdentity<'a> {
    match external_id {
        Some(external_id) => HostIdentity::Allowed { external_id, credentials_file },
        None => HostIdentity::Refused,
    }
}
