//! The `IdentitiesPort`: every action asks `authorize_org` first (members use, owners manage),
//! checks its input, writes in one transaction and records an audit entry in it.

use super::identity_input::{self, apply_change, check_new, check_page, check_user_name};
use super::in_use::{runs_needing, Needed};
use super::sealing::{seal_into, RowRef};
use super::{credentials_event, identity_event, identity_from_row, not_found, ssh_key, summary, Identities};
use crate::db::managed_credentials::{self, MemberFilter};
use crate::db::{self, managed_identities};
use crate::domain::{internal, now_ms};
use crate::policy::{authorize_org, OrgPermission};
use app::error::AppError;
use app::model::*;
use app::ports::{
    IdentitiesPort, InUseSubject, ManagedCredentialsError, ManagedCredentialsInUse, ManagedCredentialsInput,
    ManagedCredentialsQuery, Page, SshKeysInput,
};
use async_trait::async_trait;

fn taken(name: &str) -> AppError {
    AppError::conflict(format!("This organization already has a managed identity named '{name}'."))
}

fn already_registered(identity_name: &str) -> AppError {
    AppError::conflict(format!(
        "You already have cluster credentials for the managed identity '{identity_name}': replace them \
         instead."
    ))
}

/// Checks a key on a blocking thread: opening a passphrase key runs bcrypt's key derivation,
/// which must not hold up the async workers.
async fn checked_off_the_workers(keys: SshKeysInput) -> Result<ssh_key::CheckedKey, AppError> {
    tokio::task::spawn_blocking(move || ssh_key::check(&keys)).await.map_err(internal)?
}

fn credentials_not_found() -> AppError {
    AppError::not_found("Managed credentials")
}

#[async_trait]
impl IdentitiesPort for Identities {
    async fn list_identities(
        &self,
        actor: &SessionUser,
        org_id: i64,
        search: Option<String>,
        max: i64,
        offset: i64,
    ) -> Result<Page<ManagedIdentity>, AppError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::UseIdentities).await?;
        check_page(max, offset)?;
        let (name_like, platform) = identity_input::identities_search(search.as_deref())?;
        let (rows, total) =
            managed_identities::list(&self.core.db.pool, access.org_id, &name_like, &platform, max, offset)
                .await
                .map_err(internal)?;
        let items = rows.into_iter().map(identity_from_row).collect::<Result<_, _>>().map_err(internal)?;
        Ok(Page { items, total })
    }

    async fn describe_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
    ) -> Result<ManagedIdentity, AppError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::UseIdentities).await?;
        self.find(access.org_id, identity_id).await
    }

    async fn create_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        input: ManagedIdentityInput,
    ) -> Result<ManagedIdentity, AppError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::ManageIdentities).await?;
        let checked = check_new(input)?;
        self.check_host(&checked.config.host_name, checked.config.port).await?;
        let config = serde_json::to_string(&checked.config).map_err(internal)?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let new = managed_identities::NewIdentity {
            org_id: access.org_id,
            name: &checked.name,
            platform: checked.platform.as_str(),
            config: &config,
            created_by: actor.id,
        };
        let id = match managed_identities::insert(&mut tx, new, now_ms()).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => return Err(taken(&checked.name)),
            Err(e) => return Err(internal(e)),
        };
        let event = identity_event(actor, "managed_identity.created", id, &checked.name).detail(format!(
            "organization {}, {} at {}:{}",
            access.org_id, checked.platform, checked.config.host_name, checked.config.port
        ));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(identity_id = id, org_id, by = actor.id, "managed identity created");
        self.find(access.org_id, id).await
    }

    async fn update_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        change: ManagedIdentityChange,
    ) -> Result<(), AppError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::ManageIdentities).await?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let row = managed_identities::lock(&mut tx, identity_id).await.map_err(internal)?;
        let row = row.filter(|row| row.org_id == access.org_id).ok_or_else(not_found)?;
        let current = identity_from_row(row).map_err(internal)?;
        let checked = apply_change(&current, change)?;
        if (&checked.config.host_name, checked.config.port)
            != (&current.config.host_name, current.config.port)
        {
            self.check_host(&checked.config.host_name, checked.config.port).await?;
        }
        let config = serde_json::to_string(&checked.config).map_err(internal)?;
        let updated =
            managed_identities::update(&mut tx, access.org_id, identity_id, &checked.name, &config, now_ms())
                .await;
        match updated {
            Ok(_) => {}
            Err(e) if db::is_unique_violation(&e) => return Err(taken(&checked.name)),
            Err(e) => return Err(internal(e)),
        }
        let pin = checked.config.host_key_fingerprint.as_deref().unwrap_or("none");
        let event = identity_event(actor, "managed_identity.updated", identity_id, &checked.name)
            .detail(format!("{}:{}, pinned host key {pin}", checked.config.host_name, checked.config.port));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(identity_id, org_id, by = actor.id, "managed identity updated");
        Ok(())
    }

    /// Deletes the identity and every member's credentials on it, unless a run that is not
    /// cleaned yet needs one of them. The transaction writes first (the row lock): on SQLite a
    /// transaction that read before its first write fails when another write came in between.
    /// The ids are read next (the delete cascades to them) and the runs after the delete, which
    /// waits for a launch that locked one of them.
    async fn delete_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
    ) -> Result<(), ManagedCredentialsError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::ManageIdentities).await?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let locked = managed_identities::lock(&mut tx, identity_id).await.map_err(internal)?;
        locked.filter(|row| row.org_id == access.org_id).ok_or_else(not_found)?;
        let credentials_ids =
            managed_credentials::ids_of_identity(&mut tx, identity_id).await.map_err(internal)?;
        let name = managed_identities::delete(&mut tx, access.org_id, identity_id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let runs = runs_needing(&mut tx, Needed::Identity { identity_id, credentials_ids: &credentials_ids })
            .await?;
        if !runs.is_empty() {
            tx.rollback().await.map_err(internal)?;
            let what = InUseSubject::Identity(identity_id);
            return Err(ManagedCredentialsError::InUse(ManagedCredentialsInUse { what, runs }));
        }
        let event = identity_event(actor, "managed_identity.deleted", identity_id, &name)
            .detail(format!("with the cluster credentials of {} member(s)", credentials_ids.len()));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(identity_id, org_id, by = actor.id, "managed identity deleted");
        Ok(())
    }

    async fn list_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        query: ManagedCredentialsQuery,
    ) -> Result<Page<ManagedCredentialsSummary>, AppError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::UseIdentities).await?;
        check_page(query.max, query.offset)?;
        let identity = self.find(access.org_id, identity_id).await?;
        let only_user = match query.user_id {
            _ if !access.is_owner && query.user_id.is_some_and(|id| id != actor.id) => {
                let refusal = AppError::Forbidden(
                    "Only the organization's owners see other members' cluster credentials.".into(),
                );
                return Err(self.core.denied(actor, None, refusal).await);
            }
            // A member sees themselves only.
            _ if !access.is_owner => Some(actor.id),
            user_id => user_id,
        };
        let (registered, text_like) = identity_input::credentials_search(query.search.as_deref());
        let filter = MemberFilter { only_user, registered, text_like: &text_like };
        let (rows, total) = managed_credentials::list_members(
            &self.core.db.pool,
            identity.id,
            identity.org_id,
            filter,
            query.max,
            query.offset,
        )
        .await
        .map_err(internal)?;
        Ok(Page { items: rows.into_iter().map(summary).collect(), total })
    }

    async fn create_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        input: ManagedCredentialsInput,
    ) -> Result<i64, AppError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::UseIdentities).await?;
        let identity = self.find(access.org_id, identity_id).await?;
        let user_name = input.user_name.ok_or_else(|| {
            AppError::bad_request("Give your user name on the cluster (metadata.userName).")
        })?;
        let user_name = check_user_name(&user_name)?;
        let keys = input.keys.ok_or_else(|| AppError::bad_request("Give your SSH private key."))?;
        let key = checked_off_the_workers(keys).await?;
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let inserted =
            managed_credentials::insert_placeholder(&mut tx, identity.id, actor.id, &user_name, now).await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => return Err(already_registered(&identity.name)),
            Err(e) => return Err(internal(e)),
        };
        let row = RowRef { identity_id: identity.id, user_id: actor.id, id, version: 1 };
        seal_into(&self.core.kek, &mut tx, row, &key, now).await?;
        let fingerprint = key.fingerprint.as_deref().unwrap_or("not shown for this key format");
        let event = credentials_event(actor, "managed_credentials.created", &identity, id, actor.id)
            .detail(format!("cluster account {user_name}, key {fingerprint}"));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(credentials_id = id, identity_id, by = actor.id, "managed credentials created");
        Ok(id)
    }

    async fn update_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        credentials_id: i64,
        input: ManagedCredentialsInput,
    ) -> Result<(), ManagedCredentialsError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::UseIdentities).await?;
        let identity = self.find(access.org_id, identity_id).await?;
        if input.user_name.is_none() && input.keys.is_none() {
            return Err(AppError::bad_request("Give a new cluster user name, a new SSH key, or both.").into());
        }
        let user_name = input.user_name.as_deref().map(check_user_name).transpose()?;
        let key = match input.keys {
            Some(keys) => Some(checked_off_the_workers(keys).await?),
            None => None,
        };
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let locked =
            managed_credentials::lock(&mut tx, identity.id, credentials_id).await.map_err(internal)?;
        let (owner_id, version) = locked.ok_or_else(credentials_not_found)?;
        if owner_id != actor.id {
            // Nobody else's key is replaced: a member would impersonate, an owner would hold it.
            let refusal = if access.is_owner {
                AppError::Forbidden("Only the member replaces their own cluster credentials.".into())
            } else {
                credentials_not_found()
            };
            return Err(refusal.into());
        }
        let runs = runs_needing(&mut tx, Needed::Credentials(credentials_id)).await?;
        if !runs.is_empty() {
            let what = InUseSubject::Credentials(credentials_id);
            return Err(ManagedCredentialsError::InUse(ManagedCredentialsInUse { what, runs }));
        }
        let mut changed = Vec::new();
        if let Some(user_name) = &user_name {
            managed_credentials::set_user_name(&mut tx, identity.id, credentials_id, user_name, now)
                .await
                .map_err(internal)?;
            changed.push(format!("cluster account {user_name}"));
        }
        if let Some(key) = &key {
            let row = RowRef {
                identity_id: identity.id,
                user_id: actor.id,
                id: credentials_id,
                version: version + 1,
            };
            seal_into(&self.core.kek, &mut tx, row, key, now).await?;
            changed.push(format!("key {}", key.fingerprint.as_deref().unwrap_or("replaced")));
        }
        let event =
            credentials_event(actor, "managed_credentials.updated", &identity, credentials_id, actor.id)
                .detail(changed.join(", "));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(credentials_id, identity_id, by = actor.id, "managed credentials updated");
        Ok(())
    }

    async fn delete_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        credentials_id: i64,
    ) -> Result<(), ManagedCredentialsError> {
        let access = authorize_org(&self.core.db, actor, org_id, OrgPermission::UseIdentities).await?;
        let identity = self.find(access.org_id, identity_id).await?;
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let deleted =
            managed_credentials::delete(&mut tx, identity.id, credentials_id).await.map_err(internal)?;
        // Another member's credentials are "not found" to a member (dropping `tx` rolls back).
        let (owner_id, user_name) = deleted
            .filter(|(owner_id, _)| *owner_id == actor.id || access.is_owner)
            .ok_or_else(credentials_not_found)?;
        let runs = runs_needing(&mut tx, Needed::Credentials(credentials_id)).await?;
        if !runs.is_empty() {
            tx.rollback().await.map_err(internal)?;
            let what = InUseSubject::Credentials(credentials_id);
            return Err(ManagedCredentialsError::InUse(ManagedCredentialsInUse { what, runs }));
        }
        let by = if owner_id == actor.id { "by the member" } else { "by an organization owner" };
        let event =
            credentials_event(actor, "managed_credentials.deleted", &identity, credentials_id, owner_id)
                .detail(format!("cluster account {user_name}, {by}"));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(credentials_id, identity_id, by = actor.id, "managed credentials deleted");
        Ok(())
    }

    async fn your_cluster_credentials(
        &self,
        actor: &SessionUser,
    ) -> Result<Vec<ClusterCredentialsEntry>, AppError> {
        let pool = &self.core.db.pool;
        let identities = managed_identities::list_for_member(pool, actor.id).await.map_err(internal)?;
        let mut out = Vec::with_capacity(identities.len());
        for (row, org_name) in identities {
            let identity = identity_from_row(row).map_err(internal)?;
            let filter = MemberFilter { only_user: Some(actor.id), registered: Some(true), text_like: "" };
            let (mine, _) =
                managed_credentials::list_members(pool, identity.id, identity.org_id, filter, 1, 0)
                    .await
                    .map_err(internal)?;
            out.push(ClusterCredentialsEntry {
                identity,
                org_name,
                credentials: mine.into_iter().next().map(summary),
            });
        }
        Ok(out)
    }
}
