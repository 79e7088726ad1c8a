//! Managed identities and each member's managed credentials, for the Identities and "Your cluster
//! credentials" pages and `/api/identities…` (`IdentitiesPort`, implemented in the server's
//! `domain/identities/port.rs`).
//!
//! Who may do what: an organization's members (owners, and participants of any of its
//! workspaces) list and describe its identities and manage their OWN credentials; its owners (and
//! instance administrators) create, update and delete identities, list every member's credentials
//! (who registered, who is missing) and may delete anyone's. Nobody reads a key back: SSH keys go
//! in as `SecretString` and only the launch path opens them.

use super::Page;
use crate::error::AppError;
use crate::model::{
    ClusterCredentialsEntry, ManagedCredentialsSummary, ManagedIdentity, ManagedIdentityChange,
    ManagedIdentityInput, SessionUser,
};
use async_trait::async_trait;
use secrecy::SecretString;

#[async_trait]
pub trait IdentitiesPort: Send + Sync + 'static {
    /// Identities whose name contains the search text (`platform:<id>` keeps one platform),
    /// `max` (1 to 1000) from `offset`.
    async fn list_identities(
        &self,
        actor: &SessionUser,
        org_id: i64,
        search: Option<String>,
        max: i64,
        offset: i64,
    ) -> Result<Page<ManagedIdentity>, AppError>;
    async fn describe_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
    ) -> Result<ManagedIdentity, AppError>;
    /// Organization owners only; returns the new identity.
    async fn create_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        input: ManagedIdentityInput,
    ) -> Result<ManagedIdentity, AppError>;
    async fn update_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        change: ManagedIdentityChange,
    ) -> Result<(), AppError>;
    /// Refused with the runs listed while a run that is not cleaned yet uses credentials of it.
    async fn delete_identity(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
    ) -> Result<(), ManagedCredentialsError>;
    /// Owners: every member (registered or missing); members: themselves only.
    async fn list_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        query: ManagedCredentialsQuery,
    ) -> Result<Page<ManagedCredentialsSummary>, AppError>;
    /// The caller's own credentials on the identity (one per member); returns their id.
    async fn create_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        input: ManagedCredentialsInput,
    ) -> Result<i64, AppError>;
    /// The caller's own: a new cluster account and/or a new key (absent parts stay).
    async fn update_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        credentials_id: i64,
        input: ManagedCredentialsInput,
    ) -> Result<(), ManagedCredentialsError>;
    /// The caller's own, or anyone's for an owner.
    async fn delete_managed_credentials(
        &self,
        actor: &SessionUser,
        org_id: i64,
        identity_id: i64,
        credentials_id: i64,
    ) -> Result<(), ManagedCredentialsError>;
    /// Every identity of the caller's organizations, with the caller's credentials on each.
    async fn your_cluster_credentials(
        &self,
        actor: &SessionUser,
    ) -> Result<Vec<ClusterCredentialsEntry>, AppError>;
}

/// Which members' credentials to list, Seqera's `ListManagedCredentials` parameters.
#[derive(Debug, Clone, Default)]
pub struct ManagedCredentialsQuery {
    /// Only this member (owners); a member may name only themselves.
    pub user_id: Option<i64>,
    /// Free text on email, name or cluster account; `is:missing` / `is:added` keep members
    /// without / with credentials (both or neither: all).
    pub search: Option<String>,
    /// 1 to 1000.
    pub max: i64,
    pub offset: i64,
}

/// A member's SSH key (Seqera's `SSHSecurityKeys`): write-only, zeroed on drop, never printed.
pub struct SshKeysInput {
    pub private_key: SecretString,
    pub passphrase: Option<SecretString>,
}

/// New or changed managed credentials. On create both are required; on update an absent part
/// stays as it is.
pub struct ManagedCredentialsInput {
    /// The cluster (POSIX) account, Seqera's `metadata.userName`.
    pub user_name: Option<String>,
    pub keys: Option<SshKeysInput>,
}

/// Runs not cleaned yet that still need the credentials: their copies of secrets on the cluster
/// are deleted over SSH with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedCredentialsInUse {
    /// The identity (when deleting it) or the one set of credentials (when deleting those).
    pub what: InUseSubject,
    /// (workflow id, run name) of each such run.
    pub runs: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InUseSubject {
    Identity(i64),
    Credentials(i64),
}

impl ManagedCredentialsInUse {
    pub fn message(&self) -> String {
        let runs: Vec<String> = self.runs.iter().map(|(id, name)| format!("{id} ('{name}')")).collect();
        let (what, verb) = match self.what {
            InUseSubject::Identity(_) => ("This managed identity's credentials are", "delete the identity"),
            InUseSubject::Credentials(_) => ("These cluster credentials are", "change or delete them"),
        };
        let (s, them) = if runs.len() == 1 { ("", "it is") } else { ("s", "they are") };
        format!(
            "{what} still needed by the run{s} {}: the copies of secrets on the cluster are deleted with \
             them when {them} cleaned. Cancel the run{s} or wait until {them} cleaned, then {verb}.",
            runs.join(", ")
        )
    }
}

pub enum ManagedCredentialsError {
    Refused(AppError),
    InUse(ManagedCredentialsInUse),
}

impl From<AppError> for ManagedCredentialsError {
    fn from(error: AppError) -> Self {
        ManagedCredentialsError::Refused(error)
    }
}

/// The UI shows a refusal for credentials in use as a conflict with its message.
impl From<ManagedCredentialsError> for AppError {
    fn from(error: ManagedCredentialsError) -> Self {
        match error {
            ManagedCredentialsError::Refused(error) => error,
            ManagedCredentialsError::InUse(in_use) => AppError::conflict(in_use.message()),
        }
    }
}
