//! A compute environment's `config` as the REST API spells it: Seqera's names where its API has
//! them (`workDir`, `region`, `executionRole`, `computeQueue`, `projectId`, `location`, and the grid
//! settings `hostName`, `port`, `userName`, `launchDir`, `headQueue`, `headJobOptions`,
//! `preRunScript`, `postRunScript`, `nextflowConfig`, `environment`), and Strongroom's own names for
//! the settings it adds (`kmsKeyId`, `customJobDefinition`, `endpointUrl`, `launchCommand`,
//! `hostKeyFingerprint`, `headJobImage`, `cloudIdentity`). The cloud head job's settings are Seqera's too
//! (`headQueue`, `headJobRole`, `headJobCpus`, `headJobMemoryMb`, `serviceAccount`, `network`,
//! `subnetwork`). `config_dto` and `config_from_dto` are each other's inverse.
//!
//! `computeQueue` is one name in Seqera's API for two settings here: the AWS Batch job queue, and
//! an HPC cluster's queue for the compute jobs; the platform decides which.

use super::compute_envs::put;
use super::extract::ApiError;
use app::error::AppError;
use app::model::{ComputeConfig, ComputeEnvSummary, ConfigEnvVariable, Platform};
use serde_json::{Map, Value};

pub fn config_dto(env: &ComputeEnvSummary) -> Value {
    let c = &env.config;
    let mut map = Map::new();
    map.insert("discriminator".into(), env.platform.as_str().into());
    put(&mut map, "workDir", c.work_dir.clone());
    put(&mut map, "region", c.region.clone());
    put(&mut map, "executionRole", c.execution_role_arn.clone());
    put(&mut map, "computeQueue", c.job_queue.clone().or_else(|| c.compute_queue.clone()));
    put(&mut map, "kmsKeyId", c.kms_key_id.clone());
    put(&mut map, "customJobDefinition", c.custom_job_definition);
    put(&mut map, "projectId", c.project.clone());
    put(&mut map, "location", c.location.clone());
    put(&mut map, "endpointUrl", c.endpoint_url.clone());
    put(&mut map, "launchCommand", c.launch_command.clone());
    put(&mut map, "hostName", c.host_name.clone());
    put(&mut map, "port", c.port);
    put(&mut map, "userName", c.user_name.clone());
    put(&mut map, "launchDir", c.launch_dir.clone());
    put(&mut map, "headQueue", c.head_queue.clone());
    put(&mut map, "headJobOptions", c.head_job_options.clone());
    put(&mut map, "preRunScript", c.pre_run_script.clone());
    put(&mut map, "postRunScript", c.post_run_script.clone());
    put(&mut map, "nextflowConfig", c.nextflow_config.clone());
    put(&mut map, "hostKeyFingerprint", c.host_key_fingerprint.clone());
    put(&mut map, "headJobRole", c.head_job_role.clone());
    put(&mut map, "headJobCpus", c.head_job_cpus);
    put(&mut map, "headJobMemoryMb", c.head_job_memory_mb);
    put(&mut map, "headJobImage", c.head_job_image.clone());
    put(&mut map, "serviceAccount", c.service_account.clone());
    put(&mut map, "network", c.network.clone());
    put(&mut map, "subnetwork", c.subnetwork.clone());
    if let Some(entries) = &c.environment {
        map.insert("environment".into(), serde_json::to_value(entries).unwrap_or(Value::Null));
    }
    if let Some(identity) = &c.cloud_identity {
        map.insert("cloudIdentity".into(), serde_json::to_value(identity).unwrap_or(Value::Null));
    }
    Value::Object(map)
}

fn refuse(message: String) -> ApiError {
    AppError::BadRequest(message).into()
}

/// The inverse of `config_dto`. Unknown fields (Seqera has many Strongroom does not use) are
/// refused by name rather than dropped, so what is read back is what was written.
pub fn config_from_dto(platform: Platform, dto: Map<String, Value>) -> Result<ComputeConfig, ApiError> {
    let mut config = ComputeConfig::default();
    let is_hpc = platform.scheduler().is_some();
    for (key, value) in dto {
        let text = || -> Result<Option<String>, ApiError> {
            match &value {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                _ => Err(refuse(format!("config.{key} must be a string."))),
            }
        };
        match key.as_str() {
            "discriminator" => {
                if value.as_str().is_some_and(|d| d != platform.as_str()) {
                    return Err(refuse(format!(
                        "config.discriminator must match the platform ({platform})."
                    )));
                }
            }
            "workDir" => config.work_dir = text()?,
            "region" => config.region = text()?,
            "executionRole" => config.execution_role_arn = text()?,
            "computeQueue" if is_hpc => config.compute_queue = text()?,
            "computeQueue" => config.job_queue = text()?,
            "kmsKeyId" => config.kms_key_id = text()?,
            "customJobDefinition" => {
                config.custom_job_definition = match value {
                    Value::Null => None,
                    Value::Bool(b) => Some(b),
                    _ => return Err(refuse("config.customJobDefinition must be true or false.".into())),
                }
            }
            "projectId" => config.project = text()?,
            "location" => config.location = text()?,
            "endpointUrl" => config.endpoint_url = text()?,
            "launchCommand" => config.launch_command = text()?,
            "hostName" => config.host_name = text()?,
            "port" => config.port = port(&value)?,
            "userName" => config.user_name = text()?,
            "launchDir" => config.launch_dir = text()?,
            "headQueue" => config.head_queue = text()?,
            "headJobOptions" => config.head_job_options = text()?,
            "preRunScript" => config.pre_run_script = text()?,
            "postRunScript" => config.post_run_script = text()?,
            "nextflowConfig" => config.nextflow_config = text()?,
            "hostKeyFingerprint" => config.host_key_fingerprint = text()?,
            "environment" => config.environment = environment(value)?,
            "headJobRole" => config.head_job_role = text()?,
            "headJobCpus" => config.head_job_cpus = count(&value, "headJobCpus")?,
            "headJobMemoryMb" => config.head_job_memory_mb = count(&value, "headJobMemoryMb")?,
            "headJobImage" => config.head_job_image = text()?,
            "serviceAccount" => config.service_account = text()?,
            "network" => config.network = text()?,
            "subnetwork" => config.subnetwork = text()?,
            "cloudIdentity" => config.cloud_identity = cloud_identity(value)?,
            other => {
                return Err(refuse(format!(
                    "config.{} is not a setting Strongroom supports.",
                    other.chars().take(64).collect::<String>()
                )))
            }
        }
    }
    Ok(config)
}

/// `cloudIdentity`: `{subject, audience, mappings: [{userId, pipeline, roleArn, …}]}`; the rules
/// are checked with the rest of the settings.
fn cloud_identity(value: Value) -> Result<Option<app::model::CloudIdentity>, ApiError> {
    match value {
        Value::Null => Ok(None),
        value => serde_json::from_value(value).map(Some).map_err(|_| {
            refuse(
                "config.cloudIdentity must be an object: subject (workspace, pipeline or user), optional \
                 audience, and mappings, each with roleArn (AWS) and, per subject, userId or pipeline."
                    .into(),
            )
        }),
    }
}

fn port(value: &Value) -> Result<Option<u16>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .map(Some)
            .ok_or_else(|| refuse("config.port must be a number from 1 to 65535.".into())),
        _ => Err(refuse("config.port must be a number from 1 to 65535.".into())),
    }
}

/// A positive whole number (vCPUs, MiB), as Seqera's int32 settings.
fn count(value: &Value, field: &str) -> Result<Option<u32>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
            .map(Some)
            .ok_or_else(|| refuse(format!("config.{field} must be a positive whole number."))),
        _ => Err(refuse(format!("config.{field} must be a positive whole number."))),
    }
}

/// Seqera's `ConfigEnvVariable` list: `[{name, value, head, compute}]`.
fn environment(value: Value) -> Result<Option<Vec<ConfigEnvVariable>>, ApiError> {
    if value.is_null() {
        return Ok(None);
    }
    serde_json::from_value(value).map(Some).map_err(|_| {
        refuse(
            "config.environment must be a list of {\"name\", \"value\", \"head\", \"compute\"} \
             (head and compute true or false)."
                .into(),
        )
    })
}
