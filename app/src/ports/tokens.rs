//! The caller's personal access tokens, for the Access tokens page and `/api/tokens`.

use crate::error::AppError;
use crate::model::{SessionUser, TokenSummary};
use async_trait::async_trait;
use secrecy::SecretString;

/// A new token is returned once, by `create_token`; listing shows names and dates only.
#[async_trait]
pub trait TokensPort: Send + Sync + 'static {
    async fn list_tokens(&self, actor: &SessionUser) -> Result<Vec<TokenSummary>, AppError>;
    /// Creates a token; the returned secret is the only copy that will ever exist.
    async fn create_token(
        &self,
        actor: &SessionUser,
        name: String,
        expires_in_days: Option<i64>,
    ) -> Result<(TokenSummary, SecretString), AppError>;
    async fn delete_token(&self, actor: &SessionUser, token_id: i64) -> Result<(), AppError>;
}
