//! Cloud credentials of a workspace: write-only, envelope-encrypted like secret values.
//!
//! Guarantees: key material enters as `CredentialKeysInput` (secret fields are `SecretString`),
//! is sealed inside the transaction that creates or replaces the row (binding: scope
//! `credentials`, the workspace, the row id and the version) and is never returned, logged, put
//! in an error or in an audit entry. Lists and descriptions read the public fields only;
//! `open_credentials`, for the provisioning path, is the only place they are decrypted. Every
//! participant lists; creating, replacing and deleting need `ManageCompute` (owner, admin).

use super::Compute;
use crate::audit::Event;
use crate::crypto::{Binding, ALGORITHM};
use crate::db::{self, compute_envs, credentials, Tx};
use crate::domain::compute::credentials_input::{self, CheckedKeys};
use crate::domain::{internal, now_ms};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::{CredentialKeysInput, CredentialsInUse, CredentialsPort, DeleteCredentialsError};
use async_trait::async_trait;

fn not_found() -> AppError {
    AppError::not_found("Credentials")
}

/// `host_external_id`: the workspace's generated external id, shown on AWS credentials that
/// assume a role through the host identity (the id their role's trust policy must require).
fn summary(
    row: credentials::CredentialsRow,
    host_external_id: Option<&str>,
) -> Result<CredentialsSummary, AppError> {
    let provider: CloudProvider = row.provider.parse().map_err(internal)?;
    let mut public: CredentialsPublic = serde_json::from_str(&row.public_keys).map_err(internal)?;
    if provider == CloudProvider::Aws && public.access_key.is_none() && public.assume_role_arn.is_some() {
        public.external_id = host_external_id.map(str::to_string);
    }
    Ok(CredentialsSummary {
        id: row.id,
        workspace_id: row.workspace_id,
        name: row.name,
        provider,
        public,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_used_at: row.last_used_at,
    })
}

fn taken(name: &str) -> AppError {
    AppError::conflict(format!("Credentials named '{name}' already exist in this workspace."))
}

/// The audit entry for a change to credentials: name, id and provider, never a key.
fn event(actor: &SessionUser, action: &'static str, workspace_id: i64, id: i64, name: &str) -> Event {
    Event::by(actor, action).workspace(workspace_id).target(format!("credentials '{name}' (id {id})"))
}

#[async_trait]
impl CredentialsPort for Compute {
    async fn list_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<CredentialsSummary>, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let rows = credentials::list(&self.core.db.pool, access.workspace_id()).await.map_err(internal)?;
        let grant = self.host_identity_grant(access.workspace_id()).await?;
        let external_id = grant.as_ref().map(|g| g.external_id.as_str());
        rows.into_iter().map(|row| summary(row, external_id)).collect()
    }

    async fn describe_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<CredentialsSummary, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let row = credentials::find(&self.core.db.pool, access.workspace_id(), id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let grant = self.host_identity_grant(access.workspace_id()).await?;
        summary(row, grant.as_ref().map(|g| g.external_id.as_str()))
    }

    async fn create_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        name: String,
        keys: CredentialKeysInput,
    ) -> Result<i64, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        check_compute_name("credentials", &name).map_err(AppError::BadRequest)?;
        let keys = credentials_input::check(keys)?;
        self.check_host_identity_keys(actor, workspace_id, &keys).await?;
        let public = serde_json::to_string(&keys.public).map_err(internal)?;
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let inserted = credentials::insert_placeholder(
            &mut tx,
            workspace_id,
            &name,
            keys.provider.as_str(),
            &public,
            actor.id,
            now,
        )
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => return Err(taken(&name)),
            Err(e) => return Err(internal(e)),
        };
        self.seal_credentials(&mut tx, workspace_id, id, 1, &keys, &public, now).await?;
        let event = event(actor, "credentials.created", workspace_id, id, &name)
            .detail(format!("provider {}", keys.provider));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(credentials_id = id, workspace_id, by = actor.id, "credentials created");
        Ok(id)
    }

    /// Replaces the keys (a new version with a new data key). The provider cannot change: the
    /// compute environments that use these credentials were checked against it.
    async fn update_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
        keys: CredentialKeysInput,
    ) -> Result<(), AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        let keys = credentials_input::check(keys)?;
        self.check_host_identity_keys(actor, workspace_id, &keys).await?;
        let public = serde_json::to_string(&keys.public).map_err(internal)?;
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let (version, name, provider) =
            credentials::lock(&mut tx, workspace_id, id).await.map_err(internal)?.ok_or_else(not_found)?;
        if provider != keys.provider.as_str() {
            return Err(AppError::bad_request(format!(
                "These are {provider} credentials: their keys can only be replaced with {provider} keys."
            )));
        }
        super::credential_versions::keep_version_for_runs(&mut tx, workspace_id, id, version, now).await?;
        self.seal_credentials(&mut tx, workspace_id, id, version + 1, &keys, &public, now).await?;
        crate::domain::compute::credential_versions::forget_unneeded(&mut tx, workspace_id).await?;
        let event = event(actor, "credentials.updated", workspace_id, id, &name)
            .detail(format!("version {}", version + 1));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(credentials_id = id, workspace_id, by = actor.id, "credentials updated");
        Ok(())
    }

    /// Deletes credentials no compute environment uses. The row is deleted first (taking its
    /// lock) and the users counted after, so an environment created meanwhile either waited for
    /// this transaction (and then finds no credentials) or is counted here.
    async fn delete_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<(), DeleteCredentialsError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let name =
            credentials::delete(&mut tx, workspace_id, id).await.map_err(internal)?.ok_or_else(not_found)?;
        let users = compute_envs::using_credentials(&mut tx, workspace_id, id).await.map_err(internal)?;
        let runs: Vec<(String, String)> =
            crate::domain::compute::credential_versions::runs_using(&mut tx, workspace_id, id)
                .await?
                .into_iter()
                .map(|run| (run.workflow_id, run.run_name))
                .collect();
        if !users.is_empty() || !runs.is_empty() {
            tx.rollback().await.map_err(internal)?;
            return Err(DeleteCredentialsError::InUse(CredentialsInUse {
                credentials_id: id,
                compute_envs: users,
                runs,
            }));
        }
        // Kept versions go with them (no run needs them: that was checked above).
        crate::domain::compute::credential_versions::forget_unneeded(&mut tx, workspace_id).await?;
        self.core.commit_audited(tx, event(actor, "credentials.deleted", workspace_id, id, &name)).await?;
        tracing::info!(credentials_id = id, workspace_id, by = actor.id, "credentials deleted");
        Ok(())
    }
}

impl Compute {
    /// AWS keys without an access key act as the host: refused unless an instance administrator
    /// allowed it for the workspace, and then without a user-chosen external id.
    async fn check_host_identity_keys(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        keys: &CheckedKeys,
    ) -> Result<(), AppError> {
        if keys.provider != CloudProvider::Aws || keys.public.access_key.is_some() {
            return Ok(());
        }
        let external_id = match self.require_host_identity(workspace_id).await {
            Ok(external_id) => external_id,
            Err(refusal) => return Err(self.core.denied(actor, Some(workspace_id), refusal).await),
        };
        if keys.public.external_id.is_some() {
            return Err(AppError::bad_request(format!(
                "With the Strongroom host's identity the external id is this workspace's own, {external_id}: \
                 leave externalId empty and require that id (sts:ExternalId) in the role's trust policy. \
                 An external id of your choice needs your own access keys."
            )));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn seal_credentials(
        &self,
        tx: &mut Tx<'_>,
        workspace_id: i64,
        id: i64,
        version: i64,
        keys: &CheckedKeys,
        public: &str,
        now: i64,
    ) -> Result<(), AppError> {
        let binding = Binding::credentials(workspace_id, id, version);
        let sealed = self.core.kek.seal(&keys.sealed_document, &binding);
        let row = credentials::NewSealed {
            algorithm: ALGORITHM,
            key_id: &sealed.key_id,
            wrapped_key: &sealed.wrapped_key,
            ciphertext: &sealed.ciphertext,
        };
        if !credentials::store_seal(tx, workspace_id, id, version, public, row, now)
            .await
            .map_err(internal)?
        {
            return Err(not_found());
        }
        Ok(())
    }
}
