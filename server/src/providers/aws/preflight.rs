//! The AWS preflight: really tries what launches and cleanup need (list secrets, create and
//! force-delete a tagged `tower-preflight-…` probe, describe job definitions, list the head
//! queue's jobs and describe a job) and, when a step
//! fails, says which permission is missing and which IAM policies to attach (`policy`).
//!
//! The probe carries the `purpose` tag, so `list_managed` never takes it for a copy; its value is
//! a fixed text, never a secret.

use super::copies::tag;
use super::errors::message_of;
use super::policy::{self, PolicyScope};
use super::{AwsStore, PREFLIGHT_PREFIX, TAG_MANAGED_BY, TAG_PURPOSE};
use crate::providers::{PreflightFailure, ProviderError, SecretStore};
use aws_sdk_batch::types::KeyValuesPair;

impl AwsStore {
    /// `SecretStore::preflight`.
    pub(super) async fn try_what_launches_need(&self) -> Result<(), PreflightFailure> {
        // 1. Listing, unscoped: the reconciler's only way to find copies left behind.
        if let Err(e) = self.secrets.list_secrets().max_results(1).send().await {
            return Err(self.preflight_failure(
                "list secrets",
                self.sdk_error("secretsmanager:ListSecrets", &e),
                "without secretsmanager:ListSecrets on \"*\" Strongroom cannot find copies to delete",
            ));
        }
        // 2. A tagged probe, created and force-deleted as a real copy would be.
        self.create_and_delete_a_probe().await?;
        // 3. Batch, read-only: registering is proven by the first launch (it needs iam:PassRole).
        if let Err(e) = self
            .batch
            .describe_job_definitions()
            .job_definition_name(format!("{PREFLIGHT_PREFIX}x"))
            .send()
            .await
        {
            return Err(self.preflight_failure(
                "describe job definitions",
                self.sdk_error("batch:DescribeJobDefinitions", &e),
                "Strongroom cannot find the job definitions it registers for runs",
            ));
        }
        // 4. The head job, read-only: its queue's jobs by name (as a submit after a crash looks
        //    for the job an earlier one started) and a job's state. Submitting, terminating and
        //    passing the roles cannot be tried without starting a job: the first launch proves them.
        if self.head_jobs().is_some() {
            self.try_following_head_jobs().await?;
        }
        Ok(())
    }

    async fn try_following_head_jobs(&self) -> Result<(), PreflightFailure> {
        let queue =
            self.head_queue().map_err(|e| self.preflight_failure("find the head queue", e, "no queue"))?;
        let listed = self
            .batch
            .list_jobs()
            .job_queue(queue)
            .filters(KeyValuesPair::builder().name("JOB_NAME").values(format!("{PREFLIGHT_PREFIX}x")).build())
            .send()
            .await;
        if let Err(e) = listed {
            return Err(self.preflight_failure(
                "list the head queue's jobs",
                self.sdk_error("batch:ListJobs", &e),
                &format!(
                    "Strongroom cannot find a run's head job on the queue {queue} (does the queue exist?)"
                ),
            ));
        }
        // A job id that cannot exist: AWS answers an empty list when the call is allowed.
        let described = self.batch.describe_jobs().jobs("00000000-0000-0000-0000-000000000000").send().await;
        if let Err(e) = described {
            return Err(self.preflight_failure(
                "describe jobs",
                self.sdk_error("batch:DescribeJobs", &e),
                "Strongroom cannot follow the head jobs it starts",
            ));
        }
        Ok(())
    }

    async fn create_and_delete_a_probe(&self) -> Result<(), PreflightFailure> {
        let probe = format!("{PREFLIGHT_PREFIX}{}", uuid::Uuid::new_v4().simple());
        self.pacing.create.until_ready().await;
        let mut create = self
            .secrets
            .create_secret()
            .name(&probe)
            .description("Strongroom preflight probe; deleted at once")
            .tags(tag(TAG_MANAGED_BY, &self.install_id))
            .tags(tag(TAG_PURPOSE, "preflight"))
            .secret_string("strongroom-preflight-probe");
        if let Some(key) = &self.kms_key_id {
            create = create.kms_key_id(key);
        }
        if let Err(e) = create.send().await {
            return Err(self.preflight_failure(
                "create a probe secret",
                self.sdk_error("secretsmanager:CreateSecret", &e),
                "Strongroom cannot create the per-run copies (tagging needs secretsmanager:TagResource, \
                 a customer-managed KMS key needs kms:GenerateDataKey)",
            ));
        }
        self.pacing.delete.until_ready().await;
        if let Err(e) =
            self.secrets.delete_secret().secret_id(&probe).force_delete_without_recovery(true).send().await
        {
            return Err(self.preflight_failure(
                "delete the probe secret",
                self.sdk_error("secretsmanager:DeleteSecret", &e),
                &format!("Strongroom cannot delete copies when runs end (the probe {probe} was left behind)"),
            ));
        }
        Ok(())
    }

    fn policy_scope(&self) -> PolicyScope<'_> {
        PolicyScope {
            region: &self.region,
            account: None,
            execution_role_arn: self.execution_role_arn.as_deref(),
            kms_key_id: self.kms_key_id.as_deref(),
            head_queue: self.head_queue().ok(),
            head_job_role_arn: self.settings.head_job_role.as_deref(),
        }
    }

    fn preflight_failure(&self, step: &str, error: ProviderError, what_for: &str) -> PreflightFailure {
        let fix = policy::fix_text(&self.policy_scope());
        match error {
            ProviderError::Denied { permission, message } => PreflightFailure {
                step: step.into(),
                message: format!("The credentials lack {permission}: {what_for} ({message})"),
                fix,
            },
            other => {
                let where_ = self.endpoint.as_deref().map_or_else(
                    || format!("AWS in region {}", self.region),
                    |e| format!("the endpoint {e} (region {})", self.region),
                );
                PreflightFailure {
                    step: step.into(),
                    message: format!("Could not {step} at {where_}: {}", message_of(&other)),
                    fix: format!(
                        "Check the region, the endpoint URL and the network path to AWS, and that the \
                         credentials are valid. Once AWS answers, these are the IAM policies needed:\n\n{fix}"
                    ),
                }
            }
        }
    }
}
