//! Pipeline secrets, for the Secrets tab, "Your secrets" and `/api/pipeline-secrets`. Values go
//! in, never come out.

use super::Page;
use crate::error::AppError;
use crate::model::{SecretMeta, SecretScope, SessionUser};
use async_trait::async_trait;
use secrecy::SecretString;

#[async_trait]
pub trait SecretsPort: Send + Sync + 'static {
    /// Names and dates, filtered by `search`, `max` (1 to 10 000) from `offset`.
    async fn list_secrets(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        search: String,
        max: i64,
        offset: i64,
    ) -> Result<Page<SecretMeta>, AppError>;
    async fn describe_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        secret_id: i64,
    ) -> Result<SecretMeta, AppError>;
    /// `Ok` when the name is valid and free, `Conflict` when taken, `BadRequest` when it breaks
    /// the naming rule.
    async fn validate_secret_name(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        name: String,
    ) -> Result<(), AppError>;
    async fn create_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        name: String,
        value: SecretString,
    ) -> Result<i64, AppError>;
    /// Replaces the value (a new version with a new data key); the name never changes.
    async fn update_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        secret_id: i64,
        value: SecretString,
    ) -> Result<(), AppError>;
    async fn delete_secret(
        &self,
        actor: &SessionUser,
        scope: SecretScope,
        secret_id: i64,
    ) -> Result<(), AppError>;
}
