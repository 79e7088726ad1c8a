//! Personal access tokens for the REST API and the CLI. A token is shown once, at creation; the
//! database keeps only its SHA-256, so a database leak yields no usable token.

use super::accounts::session_user;
use super::{internal, now_ms, Services};
use crate::audit::Event;
use crate::auth::session::{hash_token, new_token};
use crate::db::{self, tokens};
use app::error::AppError;
use app::model::SessionUser;
use app::ports::Authenticated;
use secrecy::SecretString;

/// Prefix that makes a leaked token easy to recognise (and to scan for in repositories).
pub(super) const TOKEN_PREFIX: &str = "sr_";
const NAME_MAX: usize = 50;
const MAX_LIFETIME_DAYS: i64 = 3650;

pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

fn info(row: tokens::TokenRow) -> TokenInfo {
    TokenInfo {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        expires_at: row.expires_at,
    }
}

impl Services {
    /// Creates a token; the returned secret is the only copy that will ever exist.
    pub async fn create_token(
        &self,
        actor: &SessionUser,
        name: &str,
        lifetime_days: Option<i64>,
    ) -> Result<(TokenInfo, SecretString), AppError> {
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
        let mut tx = self.db.begin().await.map_err(internal)?;
        let id = match tokens::insert(&mut tx, actor.id, name, &hash_token(&token), expires_at, now).await {
            Ok(id) => id,
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::conflict(format!("You already have a token named '{name}'.")))
            }
            Err(e) => return Err(internal(e)),
        };
        let event = Event::by(actor, "token.created").target(format!("access token '{name}' (id {id})"));
        self.commit_audited(tx, event).await?;
        tracing::info!(token_id = id, user_id = actor.id, "access token created");
        let row = tokens::find_for_user(&self.db.pool, actor.id, id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        Ok((info(row), SecretString::from(token)))
    }

    pub async fn list_tokens(&self, actor: &SessionUser) -> Result<Vec<TokenInfo>, AppError> {
        let rows = tokens::list_for_user(&self.db.pool, actor.id).await.map_err(internal)?;
        Ok(rows.into_iter().map(info).collect())
    }

    pub async fn delete_token(&self, actor: &SessionUser, id: i64) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.map_err(internal)?;
        if !tokens::delete_for_user(&mut tx, actor.id, id).await.map_err(internal)? {
            return Err(AppError::not_found("Token"));
        }
        self.commit_audited(tx, Event::by(actor, "token.deleted").target(format!("access token id {id}")))
            .await?;
        tracing::info!(token_id = id, user_id = actor.id, "access token deleted");
        Ok(())
    }

    /// The user behind a bearer token, or `None` for an unknown, expired or disabled one.
    pub async fn resolve_bearer(&self, token: &str) -> Result<Option<Authenticated>, AppError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(row) = tokens::find_by_hash(&self.db.pool, &hash_token(token)).await.map_err(internal)?
        else {
            return Ok(None);
        };
        let now = now_ms();
        if row.user.is_disabled() || row.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        // `lastUsed` to the minute is plenty, and spares a write per API call.
        if row.last_used_at.is_none_or(|at| now - at > 60_000) {
            tokens::touch(&self.db.pool, row.token_id, now).await.map_err(internal)?;
        }
        let user = session_user(&row.user);
        Ok(Some(Authenticated { user, session_id: None }))
    }
}
