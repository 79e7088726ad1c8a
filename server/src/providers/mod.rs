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
//!
//! One folder per target: `aws/` (Secrets Manager copies and the Batch job definition), `gcp/`
//! (Secret Manager copies), `hpc/` (a Nextflow secrets file per run on the Strongroom host),
//! `ssh/` (the same file on a cluster reached over SSH, and the head job). Beside them:
//! `endpoints` (where a custom endpoint may point), `opaque` (errors from an endpoint that is not
//! the provider's own), `paging` (listings that cannot run forever) and `cloud_launch` (the
//! command of the clouds' head jobs).

pub mod aws;
pub mod azure;
pub mod cloud_launch;
pub mod endpoints;
pub mod gcp;
pub mod hpc;
mod opaque;
mod paging;
mod run_target;
pub mod ssh;

pub use run_target::{CloudSession, RunTarget};

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

/// A cloud's own explanation (AWS's or Google's, never a custom endpoint's), cut to a length that
/// keeps an error message one readable sentence.
pub(crate) fn cloud_words(message: &str) -> String {
    message.chars().take(300).collect()
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

    /// The target's head-job runner, when Strongroom starts the Nextflow head job itself (HPC
    /// over SSH; the clouds' Batch services). `None`: someone else starts Nextflow.
    fn head_jobs(&self) -> Option<&dyn HeadJobs> {
        None
    }

    /// The host key the last connection saw (`SHA256:<base64>`), for a target that pins one, so
    /// a successful Check can record it.
    fn host_key_seen(&self) -> Option<String> {
        None
    }
}

/// What a head job is started with. Holds the run token, which goes only where the job reads it
/// (a 0600 file on a cluster, the job's environment in the cloud), never in a command line, a
/// script or the scheduler's record, and never in a log line.
pub struct HeadJobSpec<'a> {
    pub workflow_id: &'a str,
    pub run_name: &'a str,
    pub pipeline: &'a str,
    pub revision: Option<&'a str>,
    /// `<public url>/api`, for `-with-tower`.
    pub tower_endpoint: &'a str,
    /// The launch environment (`TOWER_WORKFLOW_ID`, `NXF_ENABLE_SECRETS`, `NXF_SECRETS_FILE`, …).
    pub launch_env: &'a [(String, String)],
    pub run_token: &'a secrecy::SecretString,
    /// Seqera's launch fields, when given.
    pub params_text: Option<&'a str>,
    pub config_text: Option<&'a str>,
    /// The launch's own scripts and work directory, which replace the environment's (the clouds'
    /// head jobs; a cluster's work directory is the environment's alone).
    pub pre_run_script: Option<&'a str>,
    pub post_run_script: Option<&'a str>,
    pub work_dir: Option<&'a str>,
    /// Checked profile names (`-profile a,b`).
    pub config_profiles: &'a [String],
    /// A managed cloud identity: the head job acts as it (an AWS role, a Google provider and
    /// service account) with tokens it fetches from Strongroom with its run token, refreshed
    /// before they expire.
    pub web_identity: Option<HeadWebIdentity<'a>>,
}

/// What a head job needs to act as a managed cloud identity itself.
#[derive(Debug, Clone, Copy)]
pub struct HeadWebIdentity<'a> {
    /// AWS: the role and its session name (empty on Google).
    pub role_arn: &'a str,
    pub session_name: &'a str,
    /// Google: the workload identity provider and the service account to impersonate.
    pub workload_identity_provider: Option<&'a str>,
    pub service_account: Option<&'a str>,
    /// The Azure app registration the job may also act as, and the Azure authority host to
    /// name when it is not Azure's public cloud (`Config::azure_authority_host`).
    pub azure_app: Option<&'a app::model::AzureApp>,
    pub azure_authority_host: Option<&'a str>,
    /// How often the job fetches a fresh token (half the token lifetime).
    pub refresh_secs: i64,
}

/// A head job's state, as the scheduler or Batch service tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadJobState {
    Queued,
    Running,
    /// Ended with success (Nextflow should have reported the end by now).
    Succeeded,
    /// Ended otherwise; the reason in the scheduler's words (state, exit code, reason).
    Failed(String),
    /// The scheduler no longer knows the job and cannot say how it ended.
    Gone,
}

impl HeadJobState {
    pub fn is_over(&self) -> bool {
        matches!(self, HeadJobState::Succeeded | HeadJobState::Failed(_) | HeadJobState::Gone)
    }

    /// The stored form (`runs.head_job_state`).
    pub fn as_str(&self) -> &'static str {
        match self {
            HeadJobState::Queued => "QUEUED",
            HeadJobState::Running => "RUNNING",
            HeadJobState::Succeeded => "SUCCEEDED",
            HeadJobState::Failed(_) => "FAILED",
            HeadJobState::Gone => "GONE",
        }
    }
}

/// Starts, follows and stops a run's Nextflow head job. Every method is idempotent across
/// crashes: `submit` called again for a run whose job exists must not start a second one (it
/// returns the same id, found by the job's name `sr-<workflowId>` or a marker file), and
/// `cancel` of a job that has ended succeeds.
#[async_trait]
pub trait HeadJobs: Send + Sync {
    /// Submits the head job; returns the scheduler's or Batch service's job id.
    async fn submit(&self, job: &HeadJobSpec<'_>) -> Result<String, ProviderError>;
    async fn status(&self, workflow_id: &str, job_id: &str) -> Result<HeadJobState, ProviderError>;
    async fn cancel(&self, workflow_id: &str, job_id: &str) -> Result<(), ProviderError>;
}

pub type SharedStore = Arc<dyn SecretStore>;

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
    /// Whether the target may act as the Strongroom host's own cloud identity (credentials
    /// without keys of their own), as an instance administrator decided for the workspace.
    pub host_identity: HostIdentity<'a>,
    /// Managed mode: act as this cloud identity (an AWS role, a Google workload identity
    /// provider and service account) with the issuer's tokens; no stored keys.
    pub managed_identity: Option<ManagedIdentity>,
}

/// Mints a fresh identity token for the run (or the Check); errors are plain sentences.
pub type MintToken = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// How long a managed identity's failed token exchange is answered from memory before the cloud
/// is asked again: a burst of calls after a refusal (a role's trust withdrawn mid-run) asks once,
/// not once per call, and stays clear of the token service's rate limits.
pub const EXCHANGE_REFUSAL_HOLD: std::time::Duration = std::time::Duration::from_secs(10);

/// Where a managed identity's tokens come from, and what they state (for messages).
#[derive(Clone)]
pub struct IdentityTokens {
    /// The token's issuer, subject and audience.
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    pub mint: MintToken,
}

impl std::fmt::Debug for IdentityTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityTokens").field("subject", &self.subject).finish_non_exhaustive()
    }
}

/// The cloud identity a managed environment's store acts as.
#[derive(Debug, Clone)]
pub enum ManagedIdentity {
    Aws(aws::WebIdentity),
    Google(gcp::Federation),
}

/// What a target without keys of its own may do with the host's own cloud identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostIdentity<'a> {
    /// Not allowed: a store that would use it refuses to open.
    Refused,
    /// Allowed. `external_id` is the one Strongroom generated for the workspace, sent with every
    /// AssumeRole made through the host identity (a user-typed one is ignored);
    /// `credentials_file` is a shared-credentials file to take the host identity from instead of
    /// the SDK's default chain (`aws_host_credentials_file`).
    Allowed { external_id: &'a str, credentials_file: Option<&'a std::path::Path> },
}

/// Opens the secret store of a compute environment. Fails with `Rejected` when the settings or
/// credentials cannot work (a missing region, malformed keys), with a message saying which.
/// Knowing no HPC work roots, it refuses every HPC target: the services use `open_with_hpc`.
pub async fn open(target: Target<'_>) -> Result<SharedStore, ProviderError> {
    open_with_hpc(target, &Arc::new(hpc::host::HpcHost::default())).await
}

/// `open`, with the instance administrator's rules for HPC work directories and launch commands.
pub async fn open_with_hpc(
    target: Target<'_>,
    hpc: &Arc<hpc::host::HpcHost>,
) -> Result<SharedStore, ProviderError> {
    use app::model::Platform;
    match target.platform {
        // A cluster reached over SSH: nothing on the Strongroom host, so no work roots apply.
        platform if target.config.uses_ssh(platform) => Ok(Arc::new(ssh::SshStore::open(&target).await?)),
        Platform::Slurm
        | Platform::Lsf
        | Platform::AltairPbs
        | Platform::Moab
        | Platform::Uge
        | Platform::Local => Ok(Arc::new(hpc::HpcStore::open(target.config, target.install_id, hpc)?)),
        Platform::AwsBatch => Ok(Arc::new(aws::AwsStore::from_target(&target).await?)),
        Platform::GoogleBatch => Ok(Arc::new(gcp::GoogleStore::open(&target).await?)),
    }
}

/// Opens a store as [`open`] does, after checking its custom endpoint against the instance's
/// rules again (a host name may resolve elsewhere now than when the environment was saved), and
/// keeping a Google environment's bearer token for Google's own hosts and listed endpoints.
pub async fn open_checked(
    target: Target<'_>,
    rules: &endpoints::EndpointPolicy,
    hpc: &Arc<hpc::host::HpcHost>,
) -> Result<SharedStore, ProviderError> {
    if target.config.uses_ssh(target.platform) {
        // A managed identity's host is in the run's target by now; an environment being checked
        // without one has nothing to connect to yet, and the SSH store says so.
        if let Some(host) = target.config.host_name.as_deref() {
            let port = target.config.port.unwrap_or(ssh::DEFAULT_PORT);
            rules.check_ssh_host(host, port, true).await.map_err(ProviderError::Rejected)?;
        }
    }
    let endpoint = target.config.endpoint_url.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if let Some(raw) = endpoint {
        // Only an instance administrator can have saved an unlisted endpoint.
        rules.check(raw, true).await.map_err(ProviderError::Rejected)?;
        let url = endpoints::parse(raw).map_err(ProviderError::Rejected)?;
        if target.platform == app::model::Platform::GoogleBatch
            && target.credentials.is_some()
            && !rules.is_listed(&url)
            && !endpoints::is_google_api(&url)
        {
            return Err(ProviderError::Rejected(format!(
                "This Google environment's endpointUrl is not one of Google's hosts \
                 (https://*.googleapis.com), and its service account's token is sent nowhere else unless an \
                 instance administrator lists the endpoint in {}.",
                endpoints::ALLOW_SETTING
            )));
        }
    }
    open_with_hpc(target, hpc).await
}
