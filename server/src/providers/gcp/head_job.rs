//! [`HeadJobs`] for [`GoogleStore`]: creates the run's Nextflow head job in Google Batch (one
//! task running the head image with the `cloud_launch` command, the environment's service
//! account, network and subnetwork), follows it with `jobs.get` and stops it with `jobs.delete`.
//!
//! Guarantees:
//! - submitting is idempotent: the job id is derived from the install and workflow ids, so a
//!   create after a crash answers ALREADY_EXISTS, and the job found is adopted only when its
//!   labels say this install made it for this run;
//! - the run token goes only into the job's environment (`TOWER_ACCESS_TOKEN`); the secrets stay in
//!   Secret Manager, named in `STRONGROOM_GOOGLE_SECRETS` (read with the service account);
//! - a job Google no longer knows is `Gone`, and deleting one that is gone succeeds.

use super::FederationEndpoints;
use super::{GoogleStore, LABEL_MANAGED_BY, LABEL_WORKFLOW_ID};
use crate::providers::cloud_launch::{groovy_quote, head_command, CloudSettings};
use crate::providers::{HeadJobSpec, HeadJobState, HeadJobs, ProviderError};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The head job's image, vCPUs and memory when the environment sets none.
pub const DEFAULT_IMAGE: &str = "public.ecr.aws/seqera-labs/nextflow:latest";
pub const HEAD_JOB_CPUS: u32 = 2;
pub const HEAD_JOB_MEMORY_MB: u32 = 4096;
/// Longest status description kept from Google Batch.
const MAX_REASON: usize = 300;

/// The head job's id: `sr-<workflow id, lowercase>-<8 hex of a digest of install and workflow
/// ids>` (Google's job ids are lowercase, and the digest keeps two workflow ids that differ only
/// in case apart), the same on every submit of the run.
pub fn head_job_id(install_id: &str, workflow_id: &str) -> String {
    let mut hash = Sha256::new();
    for part in ["strongroom-head-job", install_id, workflow_id] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    format!("sr-{}-{}", workflow_id.to_ascii_lowercase(), &hex::encode(hash.finalize())[..8])
}

/// Refuses anything but a workflow id (letters and digits): it goes into the job's id.
fn check_workflow_id(workflow_id: &str) -> Result<(), ProviderError> {
    if workflow_id.is_empty()
        || workflow_id.len() > 40
        || !workflow_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(ProviderError::Rejected(format!("'{workflow_id}' is not a workflow id")));
    }
    Ok(())
}

/// A job's end in Google Batch's words: its state and its last status event.
fn ended_reason(state: &str, job: &Value) -> String {
    let events = job["status"]["statusEvents"].as_array().cloned().unwrap_or_default();
    let last = events.iter().rev().find_map(|e| e["description"].as_str()).unwrap_or_default();
    let reason = if last.is_empty() {
        format!("Google Batch job {state} without a status description")
    } else {
        format!("Google Batch job {state}: {last}")
    };
    reason.chars().filter(|c| !c.is_control()).take(MAX_REASON).collect()
}

impl GoogleStore {
    pub(super) fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }

    fn executor_config(&self) -> String {
        let mut config = String::from("process.executor = 'google-batch'\n");
        config.push_str(&format!("google.project = {}\n", groovy_quote(&self.project)));
        config.push_str(&format!("google.location = {}\n", groovy_quote(&self.location)));
        let settings = &self.settings;
        if let Some(account) = &settings.service_account {
            config.push_str(&format!("google.batch.serviceAccountEmail = {}\n", groovy_quote(account)));
        }
        if let Some(network) = &settings.network {
            config.push_str(&format!("google.batch.network = {}\n", groovy_quote(network)));
        }
        if let Some(subnetwork) = &settings.subnetwork {
            config.push_str(&format!("google.batch.subnetwork = {}\n", groovy_quote(subnetwork)));
        }
        config
    }

    /// The `Job` resource of the head job, in Batch API v1's JSON.
    fn head_job_body(&self, job: &HeadJobSpec<'_>) -> Result<Value, ProviderError> {
        let settings = &self.settings;
        let cloud = CloudSettings {
            executor_config: self.executor_config(),
            nextflow_config: settings.nextflow_config.as_deref(),
            pre_run_script: settings.pre_run_script.as_deref(),
            post_run_script: settings.post_run_script.as_deref(),
            work_dir: settings.work_dir.as_deref(),
            environment: settings.environment.as_deref().unwrap_or_default(),
            google_endpoints: Some(FederationEndpoints::new(self.endpoint.as_deref())),
        };
        let head = head_command(job, &cloud)?;
        let variables: Map<String, Value> =
            head.environment.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let (entrypoint, commands) = head.command.split_first().expect("a command");
        let cpus = settings.head_job_cpus.unwrap_or(HEAD_JOB_CPUS);
        let memory = settings.head_job_memory_mb.unwrap_or(HEAD_JOB_MEMORY_MB);
        let mut allocation = Map::new();
        if let Some(account) = &settings.service_account {
            allocation.insert("serviceAccount".into(), json!({ "email": account }));
        }
        if settings.network.is_some() || settings.subnetwork.is_some() {
            let mut interface = Map::new();
            if let Some(network) = &settings.network {
                interface.insert("network".into(), json!(network));
            }
            if let Some(subnetwork) = &settings.subnetwork {
                interface.insert("subnetwork".into(), json!(subnetwork));
            }
            allocation.insert("network".into(), json!({ "networkInterfaces": [interface] }));
        }
        Ok(json!({
            "labels": {
                LABEL_MANAGED_BY: self.managed_by,
                LABEL_WORKFLOW_ID: super::label_value(job.workflow_id),
            },
            "taskGroups": [{
                "taskCount": "1",
                "taskSpec": {
                    "runnables": [{
                        "container": {
                            "imageUri": settings.head_job_image.as_deref().unwrap_or(DEFAULT_IMAGE),
                            "entrypoint": entrypoint,
                            "commands": commands,
                        },
                    }],
                    "environment": { "variables": variables },
                    // int64 fields are strings in Google's JSON.
                    "computeResource": {
                        "cpuMilli": (u64::from(cpus) * 1000).to_string(),
                        "memoryMib": memory.to_string(),
                    },
                    "maxRetryCount": 0,
                },
            }],
            "allocationPolicy": allocation,
            "logsPolicy": { "destination": "CLOUD_LOGGING" },
        }))
    }

    /// Whether the labels of a job found by its id say this install made it for this run.
    fn is_our_job(&self, job: &Value, workflow_id: &str) -> bool {
        job["labels"][LABEL_MANAGED_BY].as_str() == Some(self.managed_by.as_str())
            && job["labels"][LABEL_WORKFLOW_ID].as_str() == Some(super::label_value(workflow_id).as_str())
    }
}

#[async_trait]
impl HeadJobs for GoogleStore {
    async fn submit(&self, job: &HeadJobSpec<'_>) -> Result<String, ProviderError> {
        check_workflow_id(job.workflow_id)?;
        let started = std::time::Instant::now();
        let id = head_job_id(&self.install_id, job.workflow_id);
        let name = format!("{}/jobs/{id}", self.parent());
        let body = self.head_job_body(job)?;
        let found = match self.batch.create_job(&self.parent(), &id, &body).await {
            Ok(_) => false,
            // An earlier submit made it (a crash came before its id was recorded).
            Err(e) if e.already_exists() => {
                let existing = self.batch.get_job(&name).await.map_err(|e| e.error)?;
                if !self.is_our_job(&existing, job.workflow_id) {
                    return Err(ProviderError::Rejected(format!(
                        "a Google Batch job {id} exists that this install did not make for this run"
                    )));
                }
                true
            }
            Err(e) => return Err(e.error),
        };
        tracing::info!(project = %self.project, workflow_id = job.workflow_id, job = %name, found,
            ms = started.elapsed().as_millis() as u64, "Google Batch head job submitted");
        Ok(name)
    }

    async fn status(&self, workflow_id: &str, job_id: &str) -> Result<HeadJobState, ProviderError> {
        check_workflow_id(workflow_id)?;
        let job = match self.batch.get_job(job_id).await {
            Ok(job) => job,
            Err(e) if e.not_found() => return Ok(HeadJobState::Gone),
            Err(e) => return Err(e.error),
        };
        let state = job["status"]["state"].as_str().unwrap_or("STATE_UNSPECIFIED").to_string();
        Ok(match state.as_str() {
            "RUNNING" => HeadJobState::Running,
            "SUCCEEDED" => HeadJobState::Succeeded,
            "FAILED" | "CANCELLED" | "DELETION_IN_PROGRESS" | "CANCELLATION_IN_PROGRESS" => {
                HeadJobState::Failed(ended_reason(&state, &job))
            }
            // QUEUED, SCHEDULED, and any state Google adds later.
            _ => HeadJobState::Queued,
        })
    }

    async fn cancel(&self, workflow_id: &str, job_id: &str) -> Result<(), ProviderError> {
        check_workflow_id(workflow_id)?;
        match self.batch.delete_job(job_id).await {
            Ok(_) => Ok(()),
            Err(e) if e.not_found() => Ok(()),
            Err(e) => Err(e.error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_lowercase_stable_and_tell_cases_apart() {
        let a = head_job_id("strongroom-1", "AbC123");
        assert_eq!(a, head_job_id("strongroom-1", "AbC123"));
        assert!(a.starts_with("sr-abc123-") && a.len() == "sr-abc123-".len() + 8, "{a}");
        assert_ne!(a, head_job_id("strongroom-1", "abc123"));
        assert!(a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        let job = json!({ "status": { "state": "FAILED", "statusEvents": [
            { "description": "Job state is set from QUEUED to SCHEDULED" },
            { "description": "Task failed: exit code 3" },
        ] } });
        assert_eq!(ended_reason("FAILED", &job), "Google Batch job FAILED: Task failed: exit code 3");
        assert_eq!(
            ended_reason("FAILED", &json!({})),
            "Google Batch job FAILED without a status description"
        );
    }
}
