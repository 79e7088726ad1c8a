//! The Google preflight: really tries what launches and cleanup need (list secrets, create a
//! labelled `tower-preflight-…` probe, add a version, delete it, look up a Batch job) and, when a
//! step fails, prints the `gcloud` commands that grant what is missing.
//!
//! The probe carries the probe annotation, so `list_managed` never takes it for a copy, and a
//! short `ttl`, so Google removes it even if the delete fails; its value is a fixed text.

use super::{GoogleStore, ANNOTATION_INSTALL_ID, ANNOTATION_PROBE, LABEL_MANAGED_BY};
use crate::providers::{PreflightFailure, ProviderError};
use std::time::Duration;

const PROBE_TTL: Duration = Duration::from_secs(3600);

impl GoogleStore {
    /// `SecretStore::preflight`.
    pub(super) async fn try_what_launches_need(&self) -> Result<(), PreflightFailure> {
        self.client
            .list_secrets()
            .set_parent(format!("projects/{}", self.project))
            .set_page_size(1)
            .send()
            .await
            .map_err(|e| {
                self.preflight_failure("list secrets", self.error(&e, "secretmanager.secrets.list"))
            })?;

        let id = format!("tower-preflight-{}", uuid::Uuid::new_v4().simple());
        let name = self.secret_name(&id);
        let probe = self.new_secret(
            PROBE_TTL,
            vec![(LABEL_MANAGED_BY, self.managed_by.clone())],
            vec![(ANNOTATION_INSTALL_ID, self.install_id.clone()), (ANNOTATION_PROBE, "true".into())],
        );
        self.create_secret(&id, probe).await.map_err(|e| {
            self.preflight_failure("create a probe secret", self.error(&e, "secretmanager.secrets.create"))
        })?;
        let added = self.add_version(&name, b"strongroom preflight probe").await.map_err(|e| {
            self.preflight_failure(
                "add a version to the probe secret",
                self.error(&e, "secretmanager.versions.add"),
            )
        });
        let deleted = self.delete_secret(&name).await.map_err(|e| {
            self.preflight_failure("delete the probe secret", self.error(&e, "secretmanager.secrets.delete"))
        });
        added.and(deleted)?;
        // The head job, read-only: a job that cannot exist is looked up (NOT_FOUND proves
        // batch.jobs.get). Creating and deleting jobs and acting as the service account cannot be
        // tried without starting a job: the first launch proves them.
        let probe = format!("{}/jobs/sr-preflight-probe", self.parent());
        match self.batch.get_job(&probe).await {
            Ok(_) => Ok(()),
            Err(e) if e.not_found() => Ok(()),
            Err(e) => Err(self.preflight_failure("look up a Batch job", e.error)),
        }
    }

    /// The IAM commands that make launches work, ready to copy.
    fn iam_fix(&self) -> String {
        let platform = self
            .client_email
            .as_deref()
            .map(|email| format!("serviceAccount:{email}"))
            .unwrap_or_else(|| "serviceAccount:PLATFORM_SERVICE_ACCOUNT_EMAIL".into());
        let p = &self.project;
        format!(
            "Grant the platform's service account Secret Manager Admin on the project, and the \
             service account the Batch jobs run as (by default \
             PROJECT_NUMBER-compute@developer.gserviceaccount.com) Secret Manager Secret Accessor:\n\
             gcloud projects add-iam-policy-binding {p} --member={platform} \
             --role=roles/secretmanager.admin\n\
             gcloud projects add-iam-policy-binding {p} \
             --member=serviceAccount:BATCH_SERVICE_ACCOUNT_EMAIL --role=roles/secretmanager.secretAccessor\n\
             For the Nextflow head job Strongroom starts (batch.jobs.create, batch.jobs.get, \
             batch.jobs.delete, and iam.serviceAccounts.actAs on the job's service account):\n\
             gcloud projects add-iam-policy-binding {p} --member={platform} --role=roles/batch.jobsEditor\n\
             gcloud iam service-accounts add-iam-policy-binding BATCH_SERVICE_ACCOUNT_EMAIL \
             --member={platform} --role=roles/iam.serviceAccountUser --project={p}\n\
             If the message says the Secret Manager API is disabled or has not been used in the project:\n\
             gcloud services enable secretmanager.googleapis.com --project={p}"
        )
    }

    fn preflight_failure(&self, step: &str, error: ProviderError) -> PreflightFailure {
        let fix = match &error {
            ProviderError::Denied { .. } => self.iam_fix(),
            ProviderError::Throttled(_) | ProviderError::Unavailable(_) => format!(
                "Check that this server can reach Secret Manager (secretmanager.googleapis.com, or the \
                 endpoint set on the compute environment) and try again.\n{}",
                self.iam_fix()
            ),
            ProviderError::Rejected(_) => format!(
                "Check the compute environment's project ({}) and credentials.\n{}",
                self.project,
                self.iam_fix()
            ),
        };
        PreflightFailure { step: step.into(), message: error.to_string(), fix }
    }
}
