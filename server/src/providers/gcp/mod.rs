//! Google Batch target: one Google Secret Manager secret per copy, through Google's own Rust
//! client (`google-cloud-secretmanager-v1`, HTTP+JSON to `secretmanager.googleapis.com`).
//!
//! Each copy is the secret `tower-<workflowId>-<NAME>` (ids cannot hold `/`) with automatic
//! replication, one version holding the value, and a `ttl` so Google deletes it on its own if
//! Strongroom never gets to (the cleanup job deletes it when the run ends). Tasks read it as
//! `projects/<project>/secrets/tower-<wf>-<NAME>/versions/latest`.
//!
//! Guarantees:
//! - the value goes only into the `AddSecretVersion` request body; it is never logged, never put
//!   in an error (errors carry Google's status message or the transport error, neither of which
//!   echoes a request body);
//! - `create_copy` is idempotent: an existing secret is adopted only when its `managed-by` label
//!   *and* the exact install id, workflow id and name in its annotations are ours (a foreign
//!   secret of the same id is refused with `Rejected`), and a version is added only when the
//!   secret has no enabled version, so a retry after a lost answer never makes a second version;
//! - `list_managed` returns only secrets whose label and exact install-id annotation are ours;
//! - the client never retries on its own (the worker retries from durable rows) and every
//!   attempt has a short timeout; writes are paced per project below Google's 600 writes/min.
//!
//! One job per file: `connect` builds the clients from a compute environment, `copies` makes,
//! deletes and lists the copies, `head_job` creates, follows and deletes the Nextflow head job
//! in Google Batch (through `batch_api`, the Batch REST calls), `preflight` tries what launches
//! need, `errors` sorts the Secret Manager client's errors, `federation` acts as a managed
//! identity's workload identity provider and service account with the issuer's tokens. `prepare_launch` only names the
//! copies: tasks read them with the Batch service account.

mod batch_api;
mod connect;
mod copies;
mod errors;
mod federation;
mod head_job;
mod preflight;

pub use copies::{copy_name, label_value};
pub use errors::map_error;
pub use federation::{Endpoints as FederationEndpoints, Federation};
pub use head_job::head_job_id;

use super::{CopySpec, CreatedCopy, HeadJobs, ManagedCopy, PreflightFailure, ProviderError, SecretStore};
use crate::crypto::SecretBytes;
use async_trait::async_trait;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::Secret;
use governor::DefaultDirectRateLimiter;
use std::sync::Arc;
use std::time::Duration;

/// Label keys (values must be lowercase, so the exact ids also go into annotations).
pub const LABEL_MANAGED_BY: &str = "managed-by";
pub const LABEL_WORKFLOW_ID: &str = "workflow-id";
/// Annotation keys: the exact, case-preserved ids.
pub const ANNOTATION_INSTALL_ID: &str = "strongroom-install-id";
pub const ANNOTATION_WORKFLOW_ID: &str = "strongroom-workflow-id";
pub const ANNOTATION_NAME: &str = "strongroom-secret-name";
/// Marks the preflight probe, which `list_managed` leaves out (its own short ttl removes it).
pub const ANNOTATION_PROBE: &str = "strongroom-preflight-probe";

/// The safety net: Google deletes a copy this long after it was made, even if cleanup never ran.
pub const COPY_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The environment variable listing `NAME=<resource>` for every copy of a run.
pub const ENV_SECRETS: &str = "STRONGROOM_GOOGLE_SECRETS";

/// Where the Google Cloud console shows a Batch job (`job_id`: the job's id or full name).
pub fn console_url(project: &str, location: &str, job_id: &str) -> String {
    let id = job_id.rsplit('/').next().unwrap_or(job_id);
    let host = "https://console.cloud.google.com";
    format!("{host}/batch/jobsDetail/regions/{location}/jobs/{id}/details?project={project}")
}

/// One compute environment's Google Secret Manager project, as this install may use it.
pub struct GoogleStore {
    client: SecretManagerService,
    project: String,
    /// `managed-by` label value: the install id, sanitised to label rules.
    managed_by: String,
    /// The exact install id, kept in an annotation.
    install_id: String,
    /// The platform service account (from the key), for the commands preflight prints.
    client_email: Option<String>,
    writes: Arc<DefaultDirectRateLimiter>,
    /// Whether errors come from Google itself (no endpoint, or an `https://*.googleapis.com`
    /// one), whose messages may be shown; a custom endpoint's are not (`opaque`).
    trusted_errors: bool,
    /// The custom endpoint's origin, to name the target in errors.
    endpoint: Option<String>,
    /// Google Batch, for the head job: the client, the environment's location and settings
    /// (`serviceAccount`, `network`, `headJobCpus`, scripts…).
    batch: batch_api::BatchApi,
    location: String,
    settings: app::model::ComputeConfig,
}

#[async_trait]
impl SecretStore for GoogleStore {
    #[tracing::instrument(skip_all, fields(workflow_id = copy.workflow_id, name = copy.name))]
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        self.create_secret_copy(copy, value).await
    }

    #[tracing::instrument(skip_all, fields(workflow_id = copy.workflow_id, name = copy.name))]
    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        self.delete_secret_copy(copy).await
    }

    async fn prepare_launch(
        &self,
        _workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        // Nothing to create: tasks read the secrets by resource name with the Batch service
        // account. The launch only needs to know which name maps to which resource.
        let list = copies.iter().map(|c| format!("{}={}", c.name, c.reference)).collect::<Vec<_>>().join(",");
        Ok(vec![(ENV_SECRETS.to_string(), list), ("GOOGLE_CLOUD_PROJECT".to_string(), self.project.clone())])
    }

    async fn finish_cleanup(&self, _workflow_id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        self.list_secret_copies().await
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        self.try_what_launches_need().await
    }

    /// Strongroom starts the Nextflow head job in Google Batch (`head_job`).
    fn head_jobs(&self) -> Option<&dyn HeadJobs> {
        Some(self)
    }
}

impl GoogleStore {
    /// Names this target in errors, without credentials.
    fn describe(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("project {} at {e}", self.project),
            None => format!("project {}", self.project),
        }
    }

    /// The resource name of the secret `id` in this project.
    fn secret_name(&self, id: &str) -> String {
        format!("projects/{}/secrets/{id}", self.project)
    }

    /// The reference tasks use.
    pub fn reference(&self, workflow_id: &str, name: &str) -> String {
        format!("{}/versions/latest", self.secret_name(&copy_name(workflow_id, name)))
    }

    /// Whether the label and the exact install-id annotation say this install made `secret`.
    fn is_ours(&self, secret: &Secret) -> bool {
        secret.labels.get(LABEL_MANAGED_BY) == Some(&self.managed_by)
            && secret.annotations.get(ANNOTATION_INSTALL_ID) == Some(&self.install_id)
    }
}
