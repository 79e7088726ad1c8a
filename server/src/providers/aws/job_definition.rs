//! The head job's AWS Batch job definition `tower-<workflowId>`: it lists the copies' ARNs in
//! `containerProperties.secrets`, so the ECS agent hands them to the job with the execution role
//! and Strongroom never hands a value to Batch itself. Its image, vCPUs, memory and job role are
//! the environment's `headJobImage`, `headJobCpus`, `headJobMemoryMb` and `headJobRole`.
//!
//! Guarantees: a retried launch finds the definition an earlier attempt registered (same name,
//! this install's tag, the same secrets) instead of registering a second one; cleanup
//! deregisters only the definitions this install tagged for that run.

use super::copies::check_workflow_id;
use super::errors::code_of;
use super::{AwsStore, TAG_MANAGED_BY, TAG_WORKFLOW_ID};
use crate::providers::paging::PageBound;
use crate::providers::{CreatedCopy, ProviderError};
use aws_sdk_batch::types::{
    ContainerProperties, JobDefinition, JobDefinitionType, ResourceRequirement, ResourceType,
};
use std::collections::BTreeSet;

/// The image of the head job's job definition when none is configured.
pub const DEFAULT_IMAGE: &str = "public.ecr.aws/seqera-labs/nextflow:latest";
/// The head job's vCPUs and memory when the environment sets no `headJobCpus`, `headJobMemoryMb`.
pub const HEAD_JOB_VCPUS: u32 = 1;
pub const HEAD_JOB_MEMORY_MIB: u32 = 2048;

/// The job definition of a run's head job.
pub fn job_definition_name(workflow_id: &str) -> String {
    format!("tower-{workflow_id}")
}

/// (secret name, ARN) pairs, the shape a job definition lists its secrets in.
type SecretRefs = BTreeSet<(String, String)>;

impl AwsStore {
    /// `SecretStore::prepare_launch`: the launch environment, with the head job's definition that
    /// lists the copies (found, or registered now), also when the run has none (the head job
    /// runs with it). A custom job definition environment gets none: someone else starts Nextflow.
    pub(super) async fn launch_environment(
        &self,
        workflow_id: &str,
        copies: &[CreatedCopy],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        check_workflow_id(workflow_id)?;
        let mut env = vec![("AWS_REGION".to_string(), self.region.clone())];
        if let Some(queue) = &self.job_queue {
            env.push(("AWS_BATCH_JOB_QUEUE".into(), queue.clone()));
        }
        if copies.is_empty() && self.custom_job_definition {
            // Someone else starts Nextflow with their own job definition, and there is nothing
            // for the ECS agent to resolve: no job definition is needed.
            return Ok(env);
        }
        if self.custom_job_definition {
            return Err(ProviderError::Rejected(
                "This compute environment uses a custom job definition, and processes run with a custom \
                 job definition get no secrets. Launch without secrets, or turn the custom job \
                 definition off."
                    .into(),
            ));
        }
        let execution_role = self.execution_role_arn.clone();
        if execution_role.is_none() && !copies.is_empty() {
            return Err(ProviderError::Rejected(
                "The compute environment has no Batch execution role, and AWS Batch needs one to hand \
                 secrets to a job. Set the execution role ARN."
                    .into(),
            ));
        }
        // The head job runs with this definition (`head_job`), with or without secrets.
        let wanted: SecretRefs = copies.iter().map(|c| (c.name.clone(), c.reference.clone())).collect();
        let arn = match self.registered_job_definition(workflow_id, &wanted).await? {
            Some(arn) => arn,
            None => self.register_job_definition(workflow_id, execution_role, &wanted).await?,
        };
        env.push(("AWS_BATCH_JOB_DEFINITION".into(), arn));
        Ok(env)
    }

    /// `SecretStore::finish_cleanup`: deregisters every revision of the run's job definition.
    pub(super) async fn deregister_job_definitions(&self, workflow_id: &str) -> Result<(), ProviderError> {
        check_workflow_id(workflow_id)?;
        for definition in self.our_job_definitions(workflow_id).await? {
            let Some(arn) = definition.job_definition_arn() else { continue };
            match self.batch.deregister_job_definition().job_definition(arn).send().await {
                Ok(_) => {}
                // Already gone (deregistered by an earlier attempt): done.
                Err(e) if matches!(code_of(&e), Some("ClientException" | "ResourceNotFoundException")) => {}
                Err(e) => return Err(self.sdk_error("batch:DeregisterJobDefinition", &e)),
            }
        }
        Ok(())
    }

    /// The ARN of a definition an earlier attempt registered with exactly these secrets.
    async fn registered_job_definition(
        &self,
        workflow_id: &str,
        wanted: &SecretRefs,
    ) -> Result<Option<String>, ProviderError> {
        for definition in self.our_job_definitions(workflow_id).await? {
            let has: SecretRefs = definition
                .container_properties()
                .map(|p| p.secrets())
                .unwrap_or_default()
                .iter()
                .map(|s| {
                    (s.name().unwrap_or_default().to_string(), s.value_from().unwrap_or_default().to_string())
                })
                .collect();
            if has == *wanted {
                if let Some(arn) = definition.job_definition_arn() {
                    return Ok(Some(arn.to_string()));
                }
            }
        }
        Ok(None)
    }

    /// Registers the head job's definition listing `wanted`, tagged as this install's; its ARN.
    async fn register_job_definition(
        &self,
        workflow_id: &str,
        execution_role: Option<String>,
        wanted: &SecretRefs,
    ) -> Result<String, ProviderError> {
        let settings = &self.settings;
        let cpus = settings.head_job_cpus.unwrap_or(HEAD_JOB_VCPUS);
        let memory = settings.head_job_memory_mb.unwrap_or(HEAD_JOB_MEMORY_MIB);
        let mut container = ContainerProperties::builder()
            .image(settings.head_job_image.as_deref().unwrap_or(DEFAULT_IMAGE))
            .set_execution_role_arn(execution_role)
            .set_job_role_arn(settings.head_job_role.clone())
            .resource_requirements(
                ResourceRequirement::builder().r#type(ResourceType::Vcpu).value(cpus.to_string()).build(),
            )
            .resource_requirements(
                ResourceRequirement::builder().r#type(ResourceType::Memory).value(memory.to_string()).build(),
            );
        for (name, arn) in wanted {
            container =
                container.secrets(aws_sdk_batch::types::Secret::builder().name(name).value_from(arn).build());
        }
        let registered = self
            .batch
            .register_job_definition()
            .job_definition_name(job_definition_name(workflow_id))
            .r#type(JobDefinitionType::Container)
            .container_properties(container.build())
            .tags(TAG_MANAGED_BY, &self.install_id)
            .tags(TAG_WORKFLOW_ID, workflow_id)
            .send()
            .await
            .map_err(|e| self.sdk_error("batch:RegisterJobDefinition", &e))?;
        let arn = registered.job_definition_arn().ok_or_else(|| {
            ProviderError::Unavailable(
                "AWS Batch registered the job definition without saying its ARN".into(),
            )
        })?;
        Ok(arn.to_string())
    }

    /// Every ACTIVE revision of the run's job definition that this install registered.
    pub(super) async fn our_job_definitions(
        &self,
        workflow_id: &str,
    ) -> Result<Vec<JobDefinition>, ProviderError> {
        let name = job_definition_name(workflow_id);
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        let mut bound =
            PageBound::new(format!("the job definitions of run {workflow_id} in {}", self.describe()));
        loop {
            bound.next_page()?;
            let page = self
                .batch
                .describe_job_definitions()
                .job_definition_name(&name)
                .status("ACTIVE")
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.sdk_error("batch:DescribeJobDefinitions", &e))?;
            for definition in page.job_definitions() {
                let ours = definition.tags().and_then(|t| t.get(TAG_MANAGED_BY)).map(String::as_str)
                    == Some(self.install_id.as_str());
                if ours && definition.job_definition_name() == Some(name.as_str()) {
                    found.push(definition.clone());
                }
            }
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(found)
    }
}
