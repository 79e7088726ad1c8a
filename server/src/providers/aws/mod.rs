//! AWS Batch targets: per-run copies in AWS Secrets Manager, handed to tasks through an AWS Batch
//! job definition (`containerProperties.secrets = [{name, valueFrom: <ARN>}]`).
//!
//! Guarantees, beyond those of [`SecretStore`]:
//! - a copy is named `tower-<workflowId>/<NAME>` and tagged `managed-by=<install id>`,
//!   `workflow-id`, `secret-name`; `list_managed` returns only secrets carrying this install's
//!   tag, and `create_copy` never adopts, nor `delete_copy` deletes, a secret of that name that
//!   is not tagged as this install's copy for that run (`copies`);
//! - a retried `create_copy` sends the same `ClientRequestToken` (derived from install id,
//!   workflow id and name), so AWS itself treats it as the same request;
//! - copies are deleted with `ForceDeleteWithoutRecovery` (no 7–30 day recovery window holding the
//!   name and the value);
//! - no request is ever formatted into a log or an error: the SDK's `Debug` of a `CreateSecret`
//!   input would print the value. Errors carry the AWS error code and message only
//!   (`errors`). The value does pass through the SDK as a `String` it does not zeroize;
//! - creates and deletes are paced below AWS's 50 requests/s quota per (region, endpoint), shared
//!   by every store of this process (`pacing`); the SDK does not retry (the worker retries with
//!   backoff) and times out quickly, so a call answers within seconds (`connect`).
//!
//! One job per file: `connect` builds the clients from a compute environment, `copies` makes,
//! deletes and lists the Secrets Manager copies, `job_definition` registers and deregisters the
//! head job's `tower-<workflowId>` job definition, `head_job` submits, follows and terminates the
//! Nextflow head job `sr-<workflowId>`, `preflight` tries what launches need, `errors`
//! sorts SDK errors, `web_identity` acts as a managed identity's role with the issuer's tokens, `policy` writes the IAM policies a failed preflight shows.

mod connect;
mod copies;
mod errors;
mod head_job;
mod job_definition;
mod pacing;
pub mod policy;
mod preflight;
mod web_identity;

pub use connect::HOST_IDENTITY_REFUSED;
pub use copies::{copy_name, request_token};
pub use head_job::{console_url, head_job_name, TERMINATE_REASON};
pub use job_definition::{job_definition_name, DEFAULT_IMAGE};
pub use pacing::CALLS_PER_SECOND;
pub use web_identity::WebIdentity;

use super::{CopySpec, CreatedCopy, HeadJobs, ManagedCopy, PreflightFailure, ProviderError, SecretStore};
use crate::crypto::SecretBytes;
use async_trait::async_trait;
use std::sync::Arc;

/// Tag keys on every copy (and on job definitions, except `secret-name`).
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const TAG_WORKFLOW_ID: &str = "workflow-id";
pub const TAG_SECRET_NAME: &str = "secret-name";
/// Tag on preflight probes, so `list_managed` never mistakes one for a copy.
pub const TAG_PURPOSE: &str = "purpose";
pub const PREFLIGHT_PREFIX: &str = "tower-preflight-";

/// One compute environment's AWS Secrets Manager and Batch, as this install may use them.
pub struct AwsStore {
    secrets: aws_sdk_secretsmanager::Client,
    batch: aws_sdk_batch::Client,
    install_id: String,
    region: String,
    endpoint: Option<String>,
    kms_key_id: Option<String>,
    execution_role_arn: Option<String>,
    job_queue: Option<String>,
    custom_job_definition: bool,
    /// The environment's settings, for the head job (`headQueue`, `headJobCpus`, scripts…).
    settings: app::model::ComputeConfig,
    pacing: Arc<pacing::Pacing>,
    /// Whether errors come from AWS itself (no endpoint, or an `*.amazonaws.com` one), whose
    /// codes and messages may be shown; a custom endpoint's are not (`opaque`).
    trusted_errors: bool,
}

#[async_trait]
impl SecretStore for AwsStore {
    async fn create_copy(&self, copy: CopySpec<'_>, value: &SecretBytes) -> Result<String, ProviderError> {
        self.create_secret_copy(copy, value).await
    }

    async fn delete_copy(&self, copy: CopySpec<'_>) -> Result<(), ProviderError> {
        self.delete_secret_copy(copy).await
    }

    async fn prepare_launch(
        &self,
        workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        self.launch_environment(workflow_id, copies).await
    }

    async fn finish_cleanup(&self, workflow_id: &str) -> Result<(), ProviderError> {
        self.deregister_job_definitions(workflow_id).await
    }

    async fn list_managed(&self) -> Result<Vec<ManagedCopy>, ProviderError> {
        self.list_secret_copies().await
    }

    async fn preflight(&self) -> Result<(), PreflightFailure> {
        self.try_what_launches_need().await
    }

    /// Strongroom starts the head job, unless the pipelines use a custom job definition: then
    /// someone else starts Nextflow with it, as before.
    fn head_jobs(&self) -> Option<&dyn HeadJobs> {
        (!self.custom_job_definition).then_some(self as &dyn HeadJobs)
    }
}

impl AwsStore {
    /// Maps an SDK error, repeating what the endpoint said only when it is AWS itself.
    fn sdk_error<E>(
        &self,
        action: &str,
        err: &aws_sdk_secretsmanager::error::SdkError<E, aws_sdk_secretsmanager::config::http::HttpResponse>,
    ) -> ProviderError
    where
        E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        if self.trusted_errors {
            errors::map_sdk_error(action, err)
        } else {
            errors::map_untrusted_sdk_error(action, err)
        }
    }

    /// Names this target in errors, without credentials.
    fn describe(&self) -> String {
        match &self.endpoint {
            Some(e) => format!(
                "AWS region {} at {}",
                self.region,
                url::Url::parse(e).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
            ),
            None => format!("AWS region {}", self.region),
        }
    }
}
