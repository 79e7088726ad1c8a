//! Submitting a run's Nextflow head job (to a cluster's scheduler over SSH, to AWS Batch or
//! Google Batch), and the messages a run ends with when its head job fails it.
//!
//! The head job gets the run's launch environment (`TOWER_WORKFLOW_ID`, `TOWER_WORKSPACE_ID`,
//! `NXF_SECRETS_FILE`, …) and a **run token** (as the local launch command does,
//! `launch_command`): the token is handed to the provider in a `SecretString`, which writes it
//! to a 0600 file the job reads; it never goes in a command line, a script, a log line or a
//! column in clear. A submit called again for the same run (after a crash or a retry) makes a
//! new token beside the first (a job found again by its name keeps reading the first one), and
//! the provider finds the job it already submitted instead of submitting a second one; every
//! token of the run is deleted when the run is cleaned.

use crate::db::runs::RunRow;
use crate::domain::runs::launch_command::run_token_name;
use crate::domain::Core;
use crate::providers::{HeadJobSpec, HeadJobState, HeadJobs, HeadWebIdentity, ProviderError};
use app::model::LaunchFields;
use secrecy::SecretString;

impl Core {
    /// Submits the head job of `run` with `jobs` (its store's runner); returns the scheduler's
    /// job id.
    pub async fn submit_head_job(&self, run: &RunRow, jobs: &dyn HeadJobs) -> Result<String, ProviderError> {
        let unavailable = |what: &str, e: &dyn std::fmt::Display| {
            ProviderError::Unavailable(format!("could not {what} for the head job: {e}"))
        };
        let detail = self
            .describe_run_unchecked(run)
            .await
            .map_err(|e| unavailable("read the run's launch environment", &e))?;
        // Each submit has a token of its own: a job an earlier submit started (found again by
        // its name) may already hold the earlier one.
        let name = format!("{} head job {}", run_token_name(&run.id), crate::domain::now_ms());
        let token =
            self.create_run_token(run, &name).await.map_err(|e| unavailable("make the run token", &e))?;
        let token = SecretString::from(token);
        let tower_endpoint = self.api_endpoint();
        let fields: LaunchFields = match run.launch_fields.as_deref() {
            Some(json) => {
                serde_json::from_str(json).map_err(|e| unavailable("read the run's launch fields", &e))?
            }
            None => LaunchFields::default(),
        };
        // A managed cloud identity: the head job fetches and refreshes its own token.
        let cloud_session = run.target.as_ref().and_then(|target| target.cloud_session.clone());
        let spec = HeadJobSpec {
            workflow_id: &run.id,
            run_name: &run.run_name,
            pipeline: &run.pipeline,
            revision: run.revision.as_deref(),
            tower_endpoint: &tower_endpoint,
            launch_env: &detail.launch_env,
            run_token: &token,
            // The environment's own settings (`nextflowConfig`, scripts) reach the job through its
            // target; the launch's are added here.
            params_text: fields.params_text.as_deref(),
            config_text: fields.config_text.as_deref(),
            pre_run_script: fields.pre_run_script.as_deref(),
            post_run_script: fields.post_run_script.as_deref(),
            work_dir: fields.work_dir.as_deref(),
            config_profiles: &fields.config_profiles,
            web_identity: cloud_session.as_ref().map(|session| HeadWebIdentity {
                role_arn: &session.role_arn,
                session_name: &session.session_name,
                workload_identity_provider: session.workload_identity_provider.as_deref(),
                service_account: session.service_account.as_deref(),
                azure_app: session.azure_app.as_ref(),
                azure_authority_host: self.azure.custom_authority_host(),
                refresh_secs: (self.oidc.lifetime_secs() / 2).max(30),
            }),
        };
        jobs.submit(&spec).await
    }
}

/// Why a run ends when its head job is over and Nextflow has not reported the end, in words.
pub fn ended_early_message(job_id: &str, state: &HeadJobState) -> String {
    match state {
        HeadJobState::Succeeded => format!(
            "The head job {job_id} exited successfully but Nextflow never reported the end of the run. \
             Look at the head job's output on the cluster (head.log is removed with the run's files), \
             and check that the pipeline ran with -with-tower."
        ),
        HeadJobState::Failed(reason) => {
            format!("The head job ended ({reason}) before Nextflow reported the end of the run.")
        }
        HeadJobState::Gone => format!(
            "The head job ended (the scheduler no longer knows job {job_id}) before Nextflow reported \
             the end of the run."
        ),
        HeadJobState::Queued | HeadJobState::Running => {
            format!("The head job {job_id} is still {}.", state.as_str().to_lowercase())
        }
    }
}

/// The reason stored beside a head job's state: the scheduler's words, when it gave some.
pub fn state_reason(state: &HeadJobState) -> Option<&str> {
    match state {
        HeadJobState::Failed(reason) => Some(reason),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_ends_say_what_the_scheduler_said() {
        let failed = ended_early_message("42", &HeadJobState::Failed("FAILED, exit code 3:0".into()));
        assert_eq!(
            failed,
            "The head job ended (FAILED, exit code 3:0) before Nextflow reported the end of the run."
        );
        let quiet = ended_early_message("42", &HeadJobState::Succeeded);
        assert!(quiet.contains("exited successfully but Nextflow never reported"), "{quiet}");
        assert!(ended_early_message("42", &HeadJobState::Gone).contains("no longer knows job 42"));
        assert_eq!(state_reason(&HeadJobState::Running), None);
    }
}
