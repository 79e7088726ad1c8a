//! [`HeadJobs`] for [`AwsStore`]: submits the run's Nextflow head job `sr-<workflowId>` to AWS
//! Batch with the run's job definition `tower-<workflowId>` (whose `containerProperties.secrets`
//! lists the copies), follows it with `DescribeJobs` and stops it with `TerminateJob`.
//!
//! Guarantees:
//! - submitting is idempotent: the head queue's jobs named `sr-<workflowId>` and tagged as this
//!   install's are looked for first (`ListJobs`, then `DescribeJobs` for the tags), so a submit
//!   called again after a crash returns the job that exists instead of starting a second one;
//! - the run token goes only into the job's environment (`TOWER_ACCESS_TOKEN`); the command holds
//!   names and settings (`cloud_launch`); no request is ever formatted into a log or an error;
//! - a job AWS no longer knows is `Gone`, and terminating a job that ended succeeds.

use super::copies::check_workflow_id;
use super::errors::code_of;
use super::job_definition::job_definition_name;
use super::{AwsStore, TAG_MANAGED_BY, TAG_WORKFLOW_ID};
use crate::providers::cloud_launch::{groovy_quote, head_command, CloudSettings};
use crate::providers::{HeadJobSpec, HeadJobState, HeadJobs, ProviderError};
use async_trait::async_trait;
use aws_sdk_batch::types::{ContainerOverrides, JobDetail, JobStatus, KeyValuePair, KeyValuesPair};

/// The reason AWS Batch records when Strongroom stops a head job.
pub const TERMINATE_REASON: &str = "Strongroom: the run ended";
/// Longest status reason kept from AWS Batch.
const MAX_REASON: usize = 300;

/// The head job's name: how a submit after a crash finds the job an earlier one started.
pub fn head_job_name(workflow_id: &str) -> String {
    format!("sr-{workflow_id}")
}

/// Where the AWS console shows a Batch job.
pub fn console_url(region: &str, job_id: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/batch/home?region={region}#jobs/detail/{job_id}")
}

/// A job's end in AWS Batch's words: its status, reason and the container's exit code.
fn failure_reason(job: &JobDetail) -> String {
    let mut reason = String::from("AWS Batch job FAILED");
    let container = job.container();
    let said: Vec<&str> =
        [job.status_reason(), container.and_then(|c| c.reason())].into_iter().flatten().collect();
    if !said.is_empty() {
        reason.push_str(": ");
        reason.push_str(&said.join("; "));
    } else {
        reason.push_str(" without a status reason");
    }
    if let Some(code) = container.and_then(|c| c.exit_code()) {
        reason.push_str(&format!(", exit code {code}"));
    }
    let clean: String = reason.chars().filter(|c| !c.is_control()).take(MAX_REASON).collect();
    clean
}

impl AwsStore {
    /// The head job's queue: `headQueue`, else the environment's job queue (`computeQueue`).
    pub(super) fn head_queue(&self) -> Result<&str, ProviderError> {
        self.settings.head_queue.as_deref().or(self.job_queue.as_deref()).ok_or_else(|| {
            ProviderError::Rejected("The AWS Batch compute environment has no job queue.".into())
        })
    }

    /// What the head job's tasks are aimed at: AWS Batch in this region, on the compute queue.
    fn executor_config(&self) -> String {
        let mut config = String::from("process.executor = 'awsbatch'\n");
        if let Some(queue) = &self.job_queue {
            config.push_str(&format!("process.queue = {}\n", groovy_quote(queue)));
        }
        config.push_str(&format!("aws.region = {}\n", groovy_quote(&self.region)));
        config
    }

    /// The job an earlier submit started for this run, if any: named `sr-<workflowId>` on the head
    /// queue and tagged as this install's (a job of that name someone else made is not ours).
    async fn existing_head_job(&self, workflow_id: &str) -> Result<Option<String>, ProviderError> {
        let name = head_job_name(workflow_id);
        // With a filter, ListJobs answers every status (not only RUNNING), the ended ones too.
        let listed = self
            .batch
            .list_jobs()
            .job_queue(self.head_queue()?)
            .filters(KeyValuesPair::builder().name("JOB_NAME").values(&name).build())
            .send()
            .await
            .map_err(|e| self.sdk_error("batch:ListJobs", &e))?;
        let ids: Vec<String> = listed
            .job_summary_list()
            .iter()
            .filter(|s| s.job_name() == Some(name.as_str()))
            .filter_map(|s| s.job_id().map(str::to_string))
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        let described = self
            .batch
            .describe_jobs()
            .set_jobs(Some(ids))
            .send()
            .await
            .map_err(|e| self.sdk_error("batch:DescribeJobs", &e))?;
        let mut ours: Vec<&JobDetail> = described
            .jobs()
            .iter()
            .filter(|job| {
                let tags = job.tags();
                tags.and_then(|t| t.get(TAG_MANAGED_BY)).map(String::as_str) == Some(self.install_id.as_str())
                    && tags.and_then(|t| t.get(TAG_WORKFLOW_ID)).map(String::as_str) == Some(workflow_id)
            })
            .collect();
        // The first one submitted is the one to follow.
        ours.sort_by_key(|job| job.created_at());
        Ok(ours.first().and_then(|job| job.job_id()).map(str::to_string))
    }

    /// The run's job definition: the one `prepare_launch` registered (its ARN is in the launch
    /// environment), else the latest this install registered for the run.
    async fn head_job_definition(&self, job: &HeadJobSpec<'_>) -> Result<String, ProviderError> {
        let from_env =
            job.launch_env.iter().find(|(k, _)| k == "AWS_BATCH_JOB_DEFINITION").map(|(_, v)| v.clone());
        if let Some(arn) = from_env {
            return Ok(arn);
        }
        let mut found = self.our_job_definitions(job.workflow_id).await?;
        found.sort_by_key(|d| d.revision());
        found.last().and_then(|d| d.job_definition_arn()).map(str::to_string).ok_or_else(|| {
            ProviderError::Rejected(format!(
                "the run's job definition {} is not registered",
                job_definition_name(job.workflow_id)
            ))
        })
    }

    async fn submit_head_job(&self, job: &HeadJobSpec<'_>) -> Result<String, ProviderError> {
        let definition = self.head_job_definition(job).await?;
        let settings = CloudSettings {
            executor_config: self.executor_config(),
            nextflow_config: self.settings.nextflow_config.as_deref(),
            pre_run_script: self.settings.pre_run_script.as_deref(),
            post_run_script: self.settings.post_run_script.as_deref(),
            work_dir: self.settings.work_dir.as_deref(),
            environment: self.settings.environment.as_deref().unwrap_or_default(),
            google_endpoints: None,
        };
        let head = head_command(job, &settings)?;
        let mut overrides = ContainerOverrides::builder().set_command(Some(head.command));
        for (name, value) in head.environment {
            overrides = overrides.environment(KeyValuePair::builder().name(name).value(value).build());
        }
        let submitted = self
            .batch
            .submit_job()
            .job_name(head_job_name(job.workflow_id))
            .job_queue(self.head_queue()?)
            .job_definition(definition)
            .container_overrides(overrides.build())
            .tags(TAG_MANAGED_BY, &self.install_id)
            .tags(TAG_WORKFLOW_ID, job.workflow_id)
            .send()
            .await
            .map_err(|e| self.sdk_error("batch:SubmitJob", &e))?;
        submitted.job_id().map(str::to_string).ok_or_else(|| {
            ProviderError::Unavailable("AWS Batch accepted the head job without saying its id".into())
        })
    }
}

#[async_trait]
impl HeadJobs for AwsStore {
    async fn submit(&self, job: &HeadJobSpec<'_>) -> Result<String, ProviderError> {
        check_workflow_id(job.workflow_id)?;
        let started = std::time::Instant::now();
        let (id, found) = match self.existing_head_job(job.workflow_id).await? {
            Some(id) => (id, true),
            None => (self.submit_head_job(job).await?, false),
        };
        tracing::info!(region = %self.region, workflow_id = job.workflow_id, job_id = %id, found,
            ms = started.elapsed().as_millis() as u64, "AWS Batch head job submitted");
        Ok(id)
    }

    async fn status(&self, workflow_id: &str, job_id: &str) -> Result<HeadJobState, ProviderError> {
        check_workflow_id(workflow_id)?;
        let described = self
            .batch
            .describe_jobs()
            .jobs(job_id)
            .send()
            .await
            .map_err(|e| self.sdk_error("batch:DescribeJobs", &e))?;
        let Some(job) = described.jobs().iter().find(|j| j.job_id() == Some(job_id)) else {
            return Ok(HeadJobState::Gone);
        };
        Ok(match job.status() {
            Some(JobStatus::Running) => HeadJobState::Running,
            Some(JobStatus::Succeeded) => HeadJobState::Succeeded,
            Some(JobStatus::Failed) => HeadJobState::Failed(failure_reason(job)),
            // SUBMITTED, PENDING, RUNNABLE, STARTING, and any status AWS adds later.
            _ => HeadJobState::Queued,
        })
    }

    async fn cancel(&self, workflow_id: &str, job_id: &str) -> Result<(), ProviderError> {
        check_workflow_id(workflow_id)?;
        let error = match self.batch.terminate_job().job_id(job_id).reason(TERMINATE_REASON).send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        // A job AWS no longer knows has nothing left to stop.
        if code_of(&error) == Some("ClientException")
            && self.status(workflow_id, job_id).await? == HeadJobState::Gone
        {
            return Ok(());
        }
        Err(self.sdk_error("batch:TerminateJob", &error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_batch::types::ContainerDetail;

    #[test]
    fn a_failure_says_what_aws_batch_said() {
        let job = JobDetail::builder()
            .status(JobStatus::Failed)
            .status_reason("Essential container in task exited")
            .container(ContainerDetail::builder().exit_code(3).build())
            .build();
        assert_eq!(
            failure_reason(&job),
            "AWS Batch job FAILED: Essential container in task exited, exit code 3"
        );
        let quiet = JobDetail::builder().status(JobStatus::Failed).build();
        assert_eq!(failure_reason(&quiet), "AWS Batch job FAILED without a status reason");
        assert_eq!(
            console_url("eu-west-1", "abc"),
            "https://eu-west-1.console.aws.amazon.com/batch/home?region=eu-west-1#jobs/detail/abc"
        );
    }
}
