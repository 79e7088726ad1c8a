//! The UI's tokens port: each method forwards to the service method the REST API uses too.

use crate::domain::{Core, TokenInfo};
use app::error::AppError;
use app::model::{SessionUser, TokenSummary};
use app::ports::TokensBackend;
use async_trait::async_trait;
use secrecy::SecretString;

fn summary(token: TokenInfo) -> TokenSummary {
    TokenSummary {
        id: token.id,
        name: token.name,
        created_at: token.created_at,
        last_used_at: token.last_used_at,
        expires_at: token.expires_at,
    }
}

#[async_trait]
impl TokensBackend for Core {
    async fn list_tokens(&self, actor: &SessionUser) -> Result<Vec<TokenSummary>, AppError> {
        Ok(Core::list_tokens(self, actor).await?.into_iter().map(summary).collect())
    }

    async fn create_token(
        &self,
        actor: &SessionUser,
        name: String,
        expires_in_days: Option<i64>,
    ) -> Result<(TokenSummary, SecretString), AppError> {
        let (token, secret) = Core::create_token(self, actor, &name, expires_in_days).await?;
        Ok((summary(token), secret))
    }

    async fn delete_token(&self, actor: &SessionUser, token_id: i64) -> Result<(), AppError> {
        Core::delete_token(self, actor, token_id).await
    }
}
