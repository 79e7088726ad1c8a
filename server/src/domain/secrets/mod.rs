//! Pipeline secrets: names and dates for everyone allowed to see them, values for nobody.
//!
//! Guarantees: a value enters as a `SecretString`, is sealed (envelope encryption bound to the
//! row) inside the same transaction that creates the row, and is never returned, logged or put in
//! an error. Workspace secrets follow the role table (read: every role; write: owner, admin,
//! maintain); a user's own secrets are reachable by that user alone, whatever their roles.

pub mod recent_reads;
pub mod sealing;

use crate::audit::Event;
use crate::db;
use crate::db::secret_overrides as overrides;
use crate::db::secrets::{self, Owner};
use crate::domain::{internal, now_ms, Core};
use crate::policy::{authorize_workspace, authorize_workspace_with};
use app::error::AppError;
use app::model::*;
use app::ports::{Page, SecretsPort};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use recent_reads::{workspace_of, DescribeKey, ListKey};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// Pipeline secrets: the `SecretsPort`.
pub struct Secrets {
    core: Arc<Core>,
}

fn meta(row: secrets::SecretMetaRow) -> SecretMeta {
    SecretMeta {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_used_at: row.last_used_at,
        overridden_by_yours: false,
        overrides_in: Vec::new(),
    }
}

pub(crate) fn not_found() -> AppError {
    AppError::not_found("Secret")
}

impl Secrets {
    pub fn new(core: Arc<Core>) -> Secrets {
        Secrets { core }
    }

    /// A batched, audited write (`audit::batch`). Once it is committed, what was kept of earlier
    /// reads is forgotten, so the next describe or list here sees it (`recent_reads`).
    async fn write<T, F>(&self, action: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'c, 't> FnOnce(&'c mut db::Tx<'t>) -> BoxFuture<'c, Result<(T, Event), AppError>>
            + Send
            + 'static,
    {
        let outcome = self.core.writes.write(action).await;
        self.core.recent_secret_reads.forget_all();
        outcome
    }

    /// The storage owner for a scope, once the caller may use `permission` there.
    async fn secret_owner(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        permission: Permission,
    ) -> Result<Owner, AppError> {
        match scope {
            SecretScope::Mine => Ok(Owner::User(actor.id)),
            SecretScope::Workspace(workspace_id) => {
                let access = authorize_workspace(&self.core.db, actor, workspace_id, permission).await?;
                Ok(Owner::Workspace(access.workspace_id()))
            }
        }
    }

    /// Sets the override badges: which of these workspace secrets the caller's own secrets
    /// replace, or which workspaces' secrets these personal secrets replace.
    async fn mark_overrides(
        &self,
        actor: &SessionUser,
        owner: Owner,
        list: &mut [SecretMeta],
    ) -> Result<(), AppError> {
        let pool = &self.core.db.pool;
        match owner {
            Owner::Workspace(workspace_id) => {
                let names: std::collections::HashSet<String> =
                    overrides::overridden_in_workspace(pool, actor.id, workspace_id)
                        .await
                        .map_err(internal)?
                        .into_iter()
                        .collect();
                for secret in list.iter_mut() {
                    secret.overridden_by_yours = names.contains(&secret.name);
                }
            }
            Owner::User(_) => {
                let shadowed = overrides::overridden_by_user(pool, actor.id).await.map_err(internal)?;
                for (name, org, workspace) in shadowed {
                    if let Some(secret) = list.iter_mut().find(|s| s.name == name) {
                        secret.overrides_in.push(format!("{org} / {workspace}"));
                    }
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SecretsPort for Secrets {
    async fn list_secrets(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        search: String,
        max: i64,
        offset: i64,
    ) -> Result<Page<SecretMeta>, AppError> {
        let recent = &self.core.recent_secret_reads.lists;
        let key = ListKey { user_id: actor.id, workspace_id: workspace_of(scope), search, max, offset };
        if let Some(kept) = recent.get(&key) {
            return Ok(kept);
        }
        let generation = recent.generation();
        let owner = self.secret_owner(actor, scope, Permission::ReadWorkspace).await?;
        if !(1..=10_000).contains(&max) || offset < 0 {
            return Err(AppError::bad_request("max must be 1 to 10000 and offset 0 or more."));
        }
        let (rows, total) =
            secrets::list(&self.core.db, owner, &key.search, max, offset).await.map_err(internal)?;
        let mut secrets: Vec<SecretMeta> = rows.into_iter().map(meta).collect();
        self.mark_overrides(actor, owner, &mut secrets).await?;
        let page = Page { items: secrets, total };
        recent.put(key, page.clone(), page.items.len().max(1), generation);
        Ok(page)
    }

    async fn describe_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        id: i64,
    ) -> Result<SecretMeta, AppError> {
        let recent = &self.core.recent_secret_reads.describes;
        let key = DescribeKey { user_id: actor.id, workspace_id: workspace_of(scope), secret_id: id };
        if let Some(kept) = recent.get(&key) {
            return Ok(kept);
        }
        let generation = recent.generation();
        let found = match scope {
            // The busiest read: the role and the secret come in one round trip.
            SecretScope::Workspace(workspace_id) => {
                let fetch = secrets::find_with_workspace(&self.core.db.pool, actor.id, workspace_id, id);
                let db = &self.core.db;
                authorize_workspace_with(db, actor, workspace_id, Permission::ReadWorkspace, fetch).await?.1
            }
            SecretScope::Mine => {
                secrets::find(&self.core.db.pool, Owner::User(actor.id), id).await.map_err(internal)?
            }
        };
        let secret = found.map(meta).ok_or_else(not_found)?;
        recent.put(key, secret.clone(), 1, generation);
        Ok(secret)
    }

    /// 204 when the name is valid and free, 409 when taken, 400 when it breaks the rule.
    async fn validate_secret_name(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        name: String,
    ) -> Result<(), AppError> {
        let owner = self.secret_owner(actor, scope, Permission::ReadWorkspace).await?;
        check_secret_name(&name).map_err(AppError::BadRequest)?;
        if secrets::name_taken(&self.core.db.pool, owner, &name).await.map_err(internal)? {
            return Err(taken(&name));
        }
        Ok(())
    }

    async fn create_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        name: String,
        value: SecretString,
    ) -> Result<i64, AppError> {
        let owner = self.secret_owner(actor, scope, Permission::WriteSecrets).await?;
        check_secret_name(&name).map_err(AppError::BadRequest)?;
        check_secret_value_len(value.expose_secret().len()).map_err(AppError::BadRequest)?;
        let now = now_ms();
        // On PostgreSQL the id comes first, so the value is sealed here, beside other requests,
        // and the batch writes the row in one statement (`secrets::reserve_id`).
        let ahead = match self.core.db.backend {
            db::Backend::Postgres => {
                let id = secrets::reserve_id(&self.core.db.pool).await.map_err(internal)?;
                Some((id, sealing::seal(&self.core, owner, id, 1, &value)))
            }
            db::Backend::Sqlite => None,
        };
        let (core, actor_row) = (self.core.clone(), actor.clone());
        let id = self
            .write(move |tx| {
                Box::pin(async move {
                    let id = match &ahead {
                        Some((id, sealed)) => {
                            let row = sealing::as_row(sealed);
                            secrets::insert_sealed(tx, owner, *id, &name, row, actor_row.id, now)
                                .await
                                .map_err(|e| insert_failed(e, &name))?;
                            *id
                        }
                        None => {
                            let id = secrets::insert_placeholder(tx, owner, &name, actor_row.id, now)
                                .await
                                .map_err(|e| insert_failed(e, &name))?;
                            sealing::seal_into(&core, tx, owner, id, 1, &value, now).await?;
                            id
                        }
                    };
                    Ok((id, secret_event(&actor_row, "secret.created", owner, id, &name)))
                })
            })
            .await?;
        tracing::info!(
            secret_id = id,
            scope = owner.scope(),
            owner_id = owner.id(),
            by = actor.id,
            "secret created"
        );
        Ok(id)
    }

    /// Replaces the value (a new version with a new data key); the name never changes.
    async fn update_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        id: i64,
        value: SecretString,
    ) -> Result<(), AppError> {
        let owner = self.secret_owner(actor, scope, Permission::WriteSecrets).await?;
        check_secret_value_len(value.expose_secret().len()).map_err(AppError::BadRequest)?;
        let now = now_ms();
        let (core, actor_row) = (self.core.clone(), actor.clone());
        self.write(move |tx| {
            Box::pin(async move {
                let (version, name) =
                    secrets::current_version(tx, owner, id).await.map_err(internal)?.ok_or_else(not_found)?;
                sealing::seal_into(&core, tx, owner, id, version + 1, &value, now).await?;
                let event = secret_event(&actor_row, "secret.updated", owner, id, &name)
                    .detail(format!("version {}", version + 1));
                Ok(((), event))
            })
        })
        .await?;
        tracing::info!(secret_id = id, scope = owner.scope(), by = actor.id, "secret updated");
        Ok(())
    }

    async fn delete_secret(&self, actor: &SessionUser, scope: SecretScope, id: i64) -> Result<(), AppError> {
        let owner = self.secret_owner(actor, scope, Permission::WriteSecrets).await?;
        let actor_row = actor.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let name = secrets::delete(tx, owner, id).await.map_err(internal)?.ok_or_else(not_found)?;
                Ok(((), secret_event(&actor_row, "secret.deleted", owner, id, &name)))
            })
        })
        .await?;
        tracing::info!(secret_id = id, scope = owner.scope(), by = actor.id, "secret deleted");
        Ok(())
    }
}

/// The audit entry for a change to a secret: its name and id, never its value.
fn secret_event(actor: &SessionUser, action: &'static str, owner: Owner, id: i64, name: &str) -> Event {
    match owner {
        Owner::Workspace(workspace_id) => {
            Event::by(actor, action).workspace(workspace_id).target(format!("secret '{name}' (id {id})"))
        }
        Owner::User(_) => Event::by(actor, action).target(format!("personal secret '{name}' (id {id})")),
    }
}

/// A new secret's insert refused: its name is taken, or the database failed.
fn insert_failed(error: sqlx::Error, name: &str) -> AppError {
    if db::is_unique_violation(&error) {
        taken(name)
    } else {
        internal(error)
    }
}

fn taken(name: &str) -> AppError {
    AppError::conflict(format!("A secret named '{name}' already exists here. Update its value instead."))
}
