//! Personal access tokens for the REST API and the CLI, and run tokens for launch commands. A
//! token is shown once, at creation; the database keeps only its SHA-256, so a database leak
//! yields no usable token.
//!
//! A run token is bound to one run: the request middleware lets it reach only that run's trace
//! endpoints (`RunScope`), it dies when the run is cleaned (checked at every use, so a failed
//! delete does not keep it alive), and it is never listed or deletable as a personal token.

use crate::audit::Event;
use crate::db::{self, runs, tokens};
use crate::domain::accounts::recent_tokens::ResolvedToken;
use crate::domain::accounts::session::{hash_token, new_token};
use crate::domain::accounts::session_user;
use crate::domain::{internal, now_ms, Core};
use app::error::AppError;
use app::model::{RunStage, SessionUser, TokenSummary};
use app::ports::{Authenticated, TokensPort};
use async_trait::async_trait;
use secrecy::SecretString;
use std::sync::Arc;

/// Prefix that makes a leaked token easy to recognise (and to scan for in repositories).
const TOKEN_PREFIX: &str = "sr_";
const NAME_MAX: usize = 50;
const MAX_LIFETIME_DAYS: i64 = 3650;

/// Personal access tokens: the `TokensPort` for the UI and the REST API, and the bearer check of
/// the request middleware.
pub struct Tokens {
    core: Arc<Core>,
}

/// The run a run token may report on; a request extension set by the middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunScope {
    pub workflow_id: String,
}

/// Who a bearer token speaks for, and for a run token, the one run it may touch.
pub struct BearerCaller {
    pub auth: Authenticated,
    pub run: Option<RunScope>,
}

/// A run token works while its run may still report: not once it is cleaned (or gave up
/// cleaning), nor when the run is gone.
fn run_is_live(stage: Option<&str>) -> bool {
    let over = [RunStage::Cleaned.as_str(), RunStage::CleanupFailed.as_str()];
    stage.is_some_and(|stage| !over.contains(&stage))
}

fn summary(row: tokens::TokenRow) -> TokenSummary {
    TokenSummary {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        expires_at: row.expires_at,
    }
}

impl Tokens {
    pub fn new(core: Arc<Core>) -> Tokens {
        Tokens { core }
    }

    /// The caller behind a bearer token, or `None` for an unknown, expired or disabled one, or
    /// for a run token whose run is over. A personal token resolved within the last second is
    /// taken from `recent_tokens` (its expiry still checked), sparing a query per API call.
    pub async fn resolve_bearer(&self, token: &str) -> Result<Option<BearerCaller>, AppError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let token_hash = hash_token(token);
        let now = now_ms();
        if let Some(known) = self.core.recent_tokens.get(&token_hash, now) {
            return Ok(Some(BearerCaller {
                auth: Authenticated { user: known.user, session_id: None },
                run: None,
            }));
        }
        let generation = self.core.recent_tokens.generation();
        let Some(row) = tokens::find_by_hash(&self.core.db.pool, &token_hash).await.map_err(internal)? else {
            return Ok(None);
        };
        if row.user.is_disabled() || row.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        if row.run_id.is_some() && !run_is_live(row.run_stage.as_deref()) {
            return Ok(None);
        }
        // `lastUsed` to the minute is plenty, and spares a write per API call.
        if row.last_used_at.is_none_or(|at| now - at > 60_000) {
            tokens::touch(&self.core.db.pool, row.token_id, now).await.map_err(internal)?;
        }
        let user = session_user(&row.user);
        if row.run_id.is_none() {
            let resolved = ResolvedToken { user: user.clone(), expires_at: row.expires_at };
            self.core.recent_tokens.put(token_hash, resolved, generation);
        }
        let run = row.run_id.map(|workflow_id| RunScope { workflow_id });
        Ok(Some(BearerCaller { auth: Authenticated { user, session_id: None }, run }))
    }
}

#[async_trait]
impl TokensPort for Tokens {
    async fn create_token(
        &self,
        actor: &SessionUser,
        name: String,
        lifetime_days: Option<i64>,
    ) -> Result<(TokenSummary, SecretString), AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
            return Err(AppError::bad_request(format!(
                "A token name is 1 to {NAME_MAX} printable characters."
            )));
        }
        if lifetime_days.is_some_and(|d| !(1..=MAX_LIFETIME_DAYS).contains(&d)) {
            return Err(AppError::bad_request(format!("A token lives 1 to {MAX_LIFETIME_DAYS} days.")));
        }
        let token = format!("{TOKEN_PREFIX}{}", new_token());
        let now = now_ms();
        let expires_at = lifetime_days.map(|d| now + d * 86_400_000);
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let new = tokens::NewToken {
            user_id: actor.id,
            name,
            token_hash: &hash_token(&token),
            expires_at,
            run_id: None,
        };
        let id = match tokens::insert(&mut tx, new, now).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::conflict(format!("You already have a token named '{name}'.")))
            }
            Err(e) => return Err(internal(e)),
        };
        let event = Event::by(actor, "token.created").target(format!("access token '{name}' (id {id})"));
        self.core.commit_audited(tx, event).await?;
        tracing::info!(token_id = id, user_id = actor.id, "access token created");
        let row = tokens::find_for_user(&self.core.db.pool, actor.id, id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        Ok((summary(row), SecretString::from(token)))
    }

    async fn list_tokens(&self, actor: &SessionUser) -> Result<Vec<TokenSummary>, AppError> {
        let rows = tokens::list_for_user(&self.core.db.pool, actor.id).await.map_err(internal)?;
        Ok(rows.into_iter().map(summary).collect())
    }

    async fn delete_token(&self, actor: &SessionUser, id: i64) -> Result<(), AppError> {
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        if !tokens::delete_for_user(&mut tx, actor.id, id).await.map_err(internal)? {
            return Err(AppError::not_found("Token"));
        }
        self.core
            .commit_audited(tx, Event::by(actor, "token.deleted").target(format!("access token id {id}")))
            .await?;
        // After the commit: a read of the row that began before it is not kept (`put` checks
        // the generation), and a read after it finds no row.
        self.core.recent_tokens.forget_all();
        tracing::info!(token_id = id, user_id = actor.id, "access token deleted");
        Ok(())
    }
}

impl Core {
    /// Makes the token a run's launch command or head job gets (`TOWER_ACCESS_TOKEN`): the
    /// launcher's identity, bound to this run, expiring with the maximum run duration. A plain
    /// `String` because it goes straight to the child's environment or the job's 0600 file, and
    /// nowhere else. `name` is unique per run token (`run_token_name`, with a suffix for a head
    /// job submitted again).
    pub(crate) async fn create_run_token(
        &self,
        run: &runs::RunRow,
        name: &str,
    ) -> Result<String, sqlx::Error> {
        let token = format!("{TOKEN_PREFIX}{}", new_token());
        let now = now_ms();
        let new = tokens::NewToken {
            user_id: run.launched_by,
            name,
            token_hash: &hash_token(&token),
            expires_at: Some(now + self.jobs.max_duration_ms),
            run_id: Some(&run.id),
        };
        let mut tx = self.db.begin().await?;
        tokens::insert(&mut tx, new, now).await?;
        tx.commit().await?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_tokens_die_with_the_cleanup() {
        assert!(run_is_live(Some("provisioning")));
        assert!(run_is_live(Some("launched")));
        assert!(run_is_live(Some("cleaning")));
        assert!(!run_is_live(Some("cleaned")));
        assert!(!run_is_live(Some("cleanup_failed")));
        assert!(!run_is_live(None), "a token whose run is gone");
    }
}
