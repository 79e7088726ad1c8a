//! Where a run's copies of secrets go: AWS Secrets Manager, Google Secret Manager, or a Nextflow
//! secrets file on an HPC cluster. Every target implements [`SecretStore`]; the launch and cleanup
//! jobs (`crate::jobs`) drive them one copy at a time from durable rows, so every method here must
//! be **idempotent**: it may be called again after a crash, a timeout or a retry, and must then
//! converge on the same result without making a second copy.
//!
//! Guarantees every implementation keeps:
//! - a value is never logged, never put in an error message, never written anywhere but the target;
//! - `delete_copy` of a copy that is not there succeeds (the goal, no copy, is reached);
//! - `list_managed` returns only copies this install made (tag, label or path prefix), so the
//!   reconciler never touches anything else in the account.

pub mod aws;
mod aws_errors;
pub mod aws_policy;
pub mod gcp;
pub mod hpc;

use crate::crypto::SecretBytes;
use async_trait::async_trait;
use std::sync::Arc;

/// One copy of one secret for one run.
#[derive(Debug, Clone, Copy)]
pub struct CopySpec<'a> {
    /// The run's 14-character workflow id.
    pub workflow_id: &'a str,
    /// The secret's name, which is also the name Nextflow asks for (`secrets.NAME`).
    pub name: &'a str,
}

/// A copy the target holds, as found by listing (for the reconciler).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedCopy {
    pub workflow_id: String,
    pub name: String,
}

/// A copy that exists, with the reference tasks use to read it (ARN, resource name or path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCopy {
    pub name: String,
    pub reference: String,
}

/// What a target answered, sorted by what the caller should do next. Messages never hold a value.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProviderError {
    /// Slow down and retry (AWS `ThrottlingException`, HTTP 429).
    #[error("the provider asked us to slow down: {0}")]
    Throttled(String),
    /// A failure that may pass (5xx, timeouts, connection errors): retry with backoff.
    #[error("the provider could not be reached or failed: {0}")]
    Unavailable(String),
    /// The credentials lack a permission. `permission` names it (`secretsmanager:CreateSecret`).
    #[error("permission {permission} is missing: {message}")]
    Denied { permission: String, message: String },
    /// A request the target will never accept as sent (bad settings, a value too large).
    #[error("the provider refused the request: {0}")]
    Rejected(String),
}

impl ProviderError {
    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ProviderError::Throttled(_) | ProviderError::Unavailable(_))
    }
}

/// A preflight step that failed: what was tried, what is missing, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightFailure {
    /// The step, in words: "list secrets", "create a probe secret", "write to the work directory".
    pub step: String,
    /// The plain-language reason, naming the missing permission when there is one.
    pub message: String,
    /// What to do: for AWS, the IAM policies to attach, ready to copy.
    pub fix: String,
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Creates the copy holding `value`, or finds the one an earlier attempt made. Returns the
    /// reference tasks use to read it.
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError>;

    /// Deletes the copy at once and for good (AWS: `ForceDeleteWithoutRecovery`). A copy that is
    /// not there is deleted.
    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError>;

    /// Once every copy exists: makes what the head job needs to see them (AWS: a Batch job
    /// definition listing the ARNs) and returns the launch environment entries to add (never a
    /// value). Called again after a crash, it must not make a second job definition.
    async fn prepare_launch(
        &self,
        workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError>;

    /// After every copy is deleted: removes what `prepare_launch` made and what Nextflow may have
    /// left beside the copies (HPC: the store and `.nf-*.secrets` files). Idempotent.
    async fn finish_cleanup(&self, workflow_id: &str) -> Result<(), ProviderError>;

    /// Every copy this install manages in the target, for the reconciler.
    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError>;

    /// Really tries what launches need (list, create and delete a `tower-preflight-…` probe;
    /// HPC: write with enforced modes) and says what is missing.
    async fn preflight(&self) -> Result<(), PreflightFailure>;
}

pub type SharedStore = Arc<dyn SecretStore>;

/// The name of a copy as Nextflow and the cloud consoles show it.
pub fn aws_copy_name(workflow_id: &str, name: &str) -> String {
    format!("tower-{workflow_id}/{name}")
}

/// Google secret ids cannot hold `/`.
pub fn google_copy_name(workflow_id: &str, name: &str) -> String {
    format!("tower-{workflow_id}-{name}")
}

/// Everything needed to reach one compute environment's secret store.
pub struct Target<'a> {
    pub platform: app::model::Platform,
    pub config: &'a app::model::ComputeConfig,
    /// The environment's decrypted credential keys, as JSON in Seqera's `SecurityKeys` shape
    /// (`AwsSecurityKeys`: `accessKey`, `secretKey`, `assumeRoleArn`, `externalId`;
    /// `GoogleSecurityKeys`: `data` = the service-account key JSON). `None` for HPC, or for a
    /// cloud environment that uses the ambient credentials of the host.
    pub credentials: Option<&'a SecretBytes>,
    /// This install's id: the `managed-by` tag or label on every copy it makes.
    pub install_id: &'a str,
}

/// Opens the secret store of a compute environment. Fails with `Rejected` when the settings or
/// credentials cannot work (a missing region, malformed keys), with a message saying which.
/// Knowing no HPC work roots, it refuses every HPC target: the services use `open_with_hpc`.
pub async fn open(target: Target<'_>) -> Result<SharedStore, ProviderError> {
    open_with_hpc(target, &Arc::new(hpc::host::HpcHost::default())).await
}

/// `open`, with the instance administrator's rules for HPC work directories and launch commands.
pub async fn open_with_hpc(target: Target<'_>, hpc: &Arc<hpc::host::HpcHost>) -> Result<SharedStore, ProviderError> {
    use app::model::Platform;
    match target.platform {
        Platform::Slurm | Platform::Lsf | Platform::AltairPbs | Platform::Local => {
            Ok(Arc::new(hpc::HpcStore::open(target.config, target.install_id, hpc)?))
        }
        Platform::AwsBatch => Ok(Arc::new(aws::AwsStore::from_target(&target).await?)),
        Platform::GoogleBatch => Ok(Arc::new(gcp::GoogleStore::open(&target).await?)),
    }
}
