//! Accounts: first-visit setup, sign-in and sign-out, password changes, and user administration,
//! for the setup, login, account and users pages and `/api/user-info`.

use super::{Authenticated, ClientInfo, SetCookie};
use crate::error::AppError;
use crate::model::{SessionUser, UserSummary};
use async_trait::async_trait;
use secrecy::SecretString;

#[async_trait]
pub trait AccountsPort: Send + Sync + 'static {
    async fn needs_setup(&self) -> Result<bool, AppError>;
    /// Creates the instance's first administrator and signs them in; refused once set up.
    async fn setup_first_admin(
        &self,
        client: &ClientInfo,
        email: String,
        display_name: String,
        password: SecretString,
    ) -> Result<SetCookie, AppError>;
    async fn login(
        &self,
        client: &ClientInfo,
        email: String,
        password: SecretString,
    ) -> Result<SetCookie, AppError>;
    async fn logout(&self, auth: &Authenticated) -> Result<SetCookie, AppError>;
    /// Changes the caller's password and ends their other sessions (not this one).
    async fn change_password(
        &self,
        auth: &Authenticated,
        current: SecretString,
        new: SecretString,
    ) -> Result<(), AppError>;
    /// The caller's own account.
    async fn user_info(&self, actor: &SessionUser) -> Result<UserSummary, AppError>;
    async fn list_users(&self, actor: &SessionUser) -> Result<Vec<UserSummary>, AppError>;
    async fn create_user(
        &self,
        actor: &SessionUser,
        email: String,
        display_name: String,
        password: SecretString,
    ) -> Result<UserSummary, AppError>;
    /// Disabling ends every session of the user at once.
    async fn set_user_disabled(
        &self,
        actor: &SessionUser,
        user_id: i64,
        disabled: bool,
    ) -> Result<(), AppError>;
}
