//! The cloud credentials of a workspace, for the Compute tab and `/api/credentials`
//! (`CredentialsPort`, implemented in the server's `domain/compute/credentials.rs`). Every
//! participant lists; owners and admins write. Credentials go in, never come out.

use crate::error::AppError;
use crate::model::{CredentialsSummary, SessionUser};
use async_trait::async_trait;
use secrecy::SecretString;

#[async_trait]
pub trait CredentialsPort: Send + Sync + 'static {
    async fn list_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
    ) -> Result<Vec<CredentialsSummary>, AppError>;
    async fn describe_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        credentials_id: i64,
    ) -> Result<CredentialsSummary, AppError>;
    async fn create_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        name: String,
        keys: CredentialKeysInput,
    ) -> Result<i64, AppError>;
    /// Replaces the keys (a new version); the name and the provider stay.
    async fn update_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        credentials_id: i64,
        keys: CredentialKeysInput,
    ) -> Result<(), AppError>;
    /// Refused with the users listed while environments or runs not cleaned yet use them.
    async fn delete_credentials(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        credentials_id: i64,
    ) -> Result<(), DeleteCredentialsError>;
}

/// The key material of new or replaced credentials, as it arrives from a form or a request body.
/// Secret fields are `SecretString` (no `Debug` output of the value, zeroed on drop); the server
/// validates, seals and forgets them.
pub enum CredentialKeysInput {
    Aws {
        access_key: Option<String>,
        secret_key: Option<SecretString>,
        assume_role_arn: Option<String>,
        external_id: Option<String>,
    },
    /// `data` is the service-account key file (JSON) as Google issues it.
    Google { data: Option<SecretString> },
    /// Seqera's `SSHSecurityKeys`: an OpenSSH or PEM private key and its passphrase, if any.
    Ssh { private_key: Option<SecretString>, passphrase: Option<SecretString> },
}

/// Credentials that compute environments or unfinished runs still use: the deletion is refused.
pub struct CredentialsInUse {
    pub credentials_id: i64,
    /// (id, name) of each environment that uses them.
    pub compute_envs: Vec<(i64, String)>,
    /// (workflow id, run name) of each run, not cleaned yet, launched with them: its copies are
    /// deleted with these keys.
    pub runs: Vec<(String, String)>,
}

impl CredentialsInUse {
    pub fn message(&self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if !self.compute_envs.is_empty() {
            let names: Vec<String> = self.compute_envs.iter().map(|(_, name)| format!("'{name}'")).collect();
            return format!(
                "These credentials are used by the compute environment{} {}. Delete or change {} first.",
                plural(names.len()),
                names.join(", "),
                if names.len() == 1 { "it" } else { "them" },
            );
        }
        let runs: Vec<String> = self.runs.iter().map(|(id, name)| format!("{id} ('{name}')")).collect();
        format!(
            "These credentials are still needed by the run{} {}: {} copies of secrets are deleted with \
             these keys when {} cleaned. Delete the credentials once {} cleaned (or cancel {}).",
            plural(runs.len()),
            runs.join(", "),
            if runs.len() == 1 { "its" } else { "their" },
            if runs.len() == 1 { "it is" } else { "they are" },
            if runs.len() == 1 { "it is" } else { "they are" },
            if runs.len() == 1 { "it" } else { "them" },
        )
    }
}

pub enum DeleteCredentialsError {
    Refused(AppError),
    InUse(CredentialsInUse),
}

impl From<AppError> for DeleteCredentialsError {
    fn from(error: AppError) -> Self {
        DeleteCredentialsError::Refused(error)
    }
}

/// The UI shows a refusal for credentials in use as a conflict with its message.
impl From<DeleteCredentialsError> for AppError {
    fn from(error: DeleteCredentialsError) -> Self {
        match error {
            DeleteCredentialsError::Refused(error) => error,
            DeleteCredentialsError::InUse(in_use) => AppError::conflict(in_use.message()),
        }
    }
}
