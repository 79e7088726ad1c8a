//! The rules for the settings of the Nextflow head job Strongroom starts in the cloud (AWS Batch,
//! Google Batch), named as in Seqera's `AwsBatchConfig` and `GoogleBatchConfig`: `workDir`,
//! `headQueue` (AWS), `headJobRole` (AWS), `serviceAccount`, `network`, `subnetwork` (Google),
//! `headJobCpus`, `headJobMemoryMb`, `headJobImage`, `preRunScript`, `postRunScript`,
//! `nextflowConfig`, `environment`. Checked lexically; none of them is a secret, and the head
//! job's command quotes every one that reaches it.

use crate::domain::compute::credentials_input::check_role_arn;
use crate::domain::compute::ssh_settings::{
    check_environment, check_text, is_queue_name, MAX_NEXTFLOW_CONFIG, MAX_SCRIPT,
};
use app::error::AppError;
use app::model::{ComputeConfig, Platform};

/// The most vCPUs and memory a head job may ask for (AWS Batch's and Google Batch's own limits
/// are of this order; more is a typo).
const MAX_CPUS: u32 = 256;
const MAX_MEMORY_MB: u32 = 2 * 1024 * 1024;

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request(message.into())
}

/// Whether `platform`'s head job takes this grid setting (as `ssh_settings` names them).
pub(crate) fn takes(platform: Platform, field: &str) -> bool {
    match field {
        "preRunScript" | "postRunScript" | "nextflowConfig" | "environment" => true,
        "headQueue" => platform == Platform::AwsBatch,
        _ => false,
    }
}

/// Refuses a cloud head-job setting on a platform it does not apply to.
pub(crate) fn refuse_elsewhere(platform: Platform, c: &ComputeConfig) -> Result<(), AppError> {
    let aws = platform == Platform::AwsBatch;
    let google = platform == Platform::GoogleBatch;
    for (set, field, applies) in [
        (c.head_job_role.is_some(), "headJobRole", aws),
        (c.head_job_cpus.is_some(), "headJobCpus", aws || google),
        (c.head_job_memory_mb.is_some(), "headJobMemoryMb", aws || google),
        (c.head_job_image.is_some(), "headJobImage", aws || google),
        (c.service_account.is_some(), "serviceAccount", google),
        (c.network.is_some(), "network", google),
        (c.subnetwork.is_some(), "subnetwork", google),
        (google && c.head_queue.is_some(), "headQueue", false),
    ] {
        if set && !applies {
            return Err(bad(format!("{field} does not apply to compute environments on {platform}.")));
        }
    }
    Ok(())
}

/// A container image reference: registry, path, tag or digest, nothing a shell would read.
fn is_image(image: &str) -> bool {
    (1..=512).contains(&image.len())
        && !image.starts_with('-')
        && image.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
}

/// A Google resource name segment (network, subnetwork, or their `projects/…` paths).
fn is_google_resource(value: &str) -> bool {
    (1..=512).contains(&value.len())
        && !value.starts_with('-')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
}

/// The work directory in the cloud's object store: `s3://bucket/…` on AWS, `gs://bucket/…` on
/// Google, as Nextflow takes it.
pub(crate) fn check_work_dir(platform: Platform, work_dir: &str, field: &str) -> Result<(), AppError> {
    let scheme = if platform == Platform::GoogleBatch { "gs://" } else { "s3://" };
    let bucket_path = work_dir.strip_prefix(scheme).unwrap_or_default();
    let ok = !bucket_path.is_empty()
        && !bucket_path.starts_with('/')
        && work_dir.len() <= 1024
        && !work_dir.split('/').any(|part| part == "..")
        && work_dir.chars().all(|c| !c.is_control() && !"'\"\\`$ ".contains(c));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "{field} must be a {scheme}bucket/path address (without spaces, quotes, backslashes, $ or '..')."
        )))
    }
}

/// Checks the head-job settings of an AWS Batch or Google Batch environment.
pub(crate) fn check(platform: Platform, c: &ComputeConfig) -> Result<(), AppError> {
    if let Some(work_dir) = c.work_dir.as_deref() {
        check_work_dir(platform, work_dir, "workDir")?;
    }
    if c.head_queue.as_deref().is_some_and(|q| !is_queue_name(q)) {
        return Err(bad(
            "headQueue must be an AWS Batch job queue name or ARN (letters, digits, '_', '.', '-').",
        ));
    }
    if let Some(role) = c.head_job_role.as_deref() {
        check_role_arn(role, "headJobRole")?;
    }
    if c.head_job_cpus.is_some_and(|n| n == 0 || n > MAX_CPUS) {
        return Err(bad(format!("headJobCpus must be between 1 and {MAX_CPUS}.")));
    }
    if c.head_job_memory_mb.is_some_and(|n| !(128..=MAX_MEMORY_MB).contains(&n)) {
        return Err(bad(format!("headJobMemoryMb must be between 128 and {MAX_MEMORY_MB}.")));
    }
    if c.head_job_image.as_deref().is_some_and(|i| !is_image(i)) {
        return Err(bad(
            "headJobImage must be a container image such as public.ecr.aws/seqera-labs/nextflow:24.10.0.",
        ));
    }
    if let Some(account) = c.service_account.as_deref() {
        let ok = account.len() <= 254
            && account.split_once('@').is_some_and(|(name, domain)| {
                !name.is_empty()
                    && domain.contains('.')
                    && account.chars().all(|ch| ch.is_ascii_alphanumeric() || "@.-_".contains(ch))
            });
        if !ok {
            return Err(bad(
                "serviceAccount must be a service account email such as nf@project.iam.gserviceaccount.com.",
            ));
        }
    }
    for (value, field) in [(&c.network, "network"), (&c.subnetwork, "subnetwork")] {
        if value.as_deref().is_some_and(|v| !is_google_resource(v)) {
            return Err(bad(format!("{field} must be a network name or its projects/…/{field}s/… path.")));
        }
    }
    check_text(&c.pre_run_script, "preRunScript", MAX_SCRIPT)?;
    check_text(&c.post_run_script, "postRunScript", MAX_SCRIPT)?;
    check_text(&c.nextflow_config, "nextflowConfig", MAX_NEXTFLOW_CONFIG)?;
    check_environment(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws() -> ComputeConfig {
        ComputeConfig {
            region: Some("eu-west-1".into()),
            job_queue: Some("queue".into()),
            execution_role_arn: Some("arn:aws:iam::123456789012:role/exec".into()),
            ..ComputeConfig::default()
        }
    }

    #[test]
    fn cloud_head_job_settings_are_checked() {
        let good = ComputeConfig {
            work_dir: Some("s3://lab-bucket/work".into()),
            head_queue: Some("head".into()),
            head_job_cpus: Some(2),
            head_job_memory_mb: Some(4096),
            head_job_image: Some("public.ecr.aws/seqera-labs/nextflow:24.10.0".into()),
            head_job_role: Some("arn:aws:iam::123456789012:role/head".into()),
            pre_run_script: Some("echo hi".into()),
            ..aws()
        };
        assert!(check(Platform::AwsBatch, &good).is_ok());
        for (config, field) in [
            (ComputeConfig { work_dir: Some("gs://b/w".into()), ..good.clone() }, "workDir"),
            (ComputeConfig { work_dir: Some("s3://b/$(x)".into()), ..good.clone() }, "workDir"),
            (ComputeConfig { head_job_cpus: Some(0), ..good.clone() }, "headJobCpus"),
            (ComputeConfig { head_job_memory_mb: Some(1), ..good.clone() }, "headJobMemoryMb"),
            (ComputeConfig { head_job_image: Some("x; rm -rf /".into()), ..good.clone() }, "headJobImage"),
            (ComputeConfig { head_job_role: Some("head".into()), ..good.clone() }, "headJobRole"),
        ] {
            let message = check(Platform::AwsBatch, &config).unwrap_err().to_string();
            assert!(message.contains(field), "{field}: {message}");
        }
        assert!(check_work_dir(Platform::GoogleBatch, "gs://b/w", "workDir").is_ok());
        assert!(check_work_dir(Platform::GoogleBatch, "s3://b/w", "workDir").is_err());
        let google = ComputeConfig { network: Some("default".into()), ..ComputeConfig::default() };
        assert!(refuse_elsewhere(Platform::GoogleBatch, &google).is_ok());
        assert!(refuse_elsewhere(Platform::AwsBatch, &google).is_err());
    }
}
