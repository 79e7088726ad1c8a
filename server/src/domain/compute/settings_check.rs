//! The per-platform rules for a compute environment's settings and credentials. Messages name
//! the field as the REST API spells it (`computeQueue`, `projectId`…), which the UI's labels
//! follow too.

use crate::domain::compute::credentials_input::check_role_arn;
use crate::domain::compute::{cloud_settings, ssh_settings};
use crate::providers::hpc::host::HpcHost;
use app::error::AppError;
use app::model::{
    check_cloud_identity, CloudProvider, ComputeConfig, ConfigEnvVariable, CredentialsPublic, IdentityCloud,
    Platform,
};
use std::path::Path;

const MAX_FIELD: usize = 1024;

fn bad(message: impl Into<String>) -> AppError {
    AppError::bad_request(message.into())
}

/// Trims every text field and treats blank ones as absent (forms send empty strings).
fn tidy(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn required(value: &Option<String>, field: &str, platform: Platform) -> Result<(), AppError> {
    match value {
        Some(v) if v.len() <= MAX_FIELD && !v.chars().any(char::is_control) => Ok(()),
        Some(_) => Err(bad(format!("{field} is too long or holds control characters."))),
        None => Err(bad(format!("Compute environments on {platform} need {field}."))),
    }
}

fn optional(value: &Option<String>, field: &str) -> Result<(), AppError> {
    match value {
        Some(v) if v.len() > MAX_FIELD || v.chars().any(char::is_control) => {
            Err(bad(format!("{field} is too long or holds control characters.")))
        }
        _ => Ok(()),
    }
}

/// Settings of another platform are refused rather than silently dropped, so what is read back
/// is what was written.
fn absent(present: bool, field: &str, platform: Platform) -> Result<(), AppError> {
    if present {
        Err(bad(format!("{field} does not apply to compute environments on {platform}.")))
    } else {
        Ok(())
    }
}

fn check_endpoint(url: &Option<String>) -> Result<(), AppError> {
    let Some(url) = url else { return Ok(()) };
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => Ok(()),
        _ => Err(bad("endpointUrl must be an http:// or https:// URL.")),
    }
}

/// An AWS region code such as `eu-west-1` or `us-gov-west-1`.
fn is_aws_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// A Google Cloud project id: 6 to 30 lowercase letters, digits or hyphens, starting with a
/// letter and not ending with a hyphen.
fn is_gcp_project(project: &str) -> bool {
    (6..=30).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_lowercase())
        && !project.ends_with('-')
        && project.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks and tidies `config` for `platform`. `local_root` is where the `local-platform` work
/// directories must live: a local environment runs Nextflow on the Strongroom host itself.
/// Every HPC work directory must also be under one of `host`'s work roots.
pub(crate) fn check_config(
    platform: Platform,
    config: ComputeConfig,
    local_root: &Path,
    host: &HpcHost,
) -> Result<ComputeConfig, AppError> {
    let config = ComputeConfig {
        region: tidy(config.region),
        execution_role_arn: tidy(config.execution_role_arn),
        job_queue: tidy(config.job_queue),
        kms_key_id: tidy(config.kms_key_id),
        custom_job_definition: config.custom_job_definition,
        head_job_role: tidy(config.head_job_role),
        head_job_cpus: config.head_job_cpus,
        head_job_memory_mb: config.head_job_memory_mb,
        head_job_image: tidy(config.head_job_image),
        service_account: tidy(config.service_account),
        network: tidy(config.network),
        subnetwork: tidy(config.subnetwork),
        endpoint_url: tidy(config.endpoint_url),
        project: tidy(config.project),
        location: tidy(config.location),
        scheduler: platform.scheduler(),
        work_dir: tidy(config.work_dir),
        launch_command: tidy(config.launch_command),
        host_name: tidy(config.host_name),
        port: config.port,
        user_name: tidy(config.user_name),
        launch_dir: tidy(config.launch_dir),
        head_queue: tidy(config.head_queue),
        compute_queue: tidy(config.compute_queue),
        head_job_options: tidy(config.head_job_options),
        // Scripts and Nextflow configuration keep their inner spacing; only blank ones go.
        pre_run_script: config.pre_run_script.filter(|v| !v.trim().is_empty()),
        post_run_script: config.post_run_script.filter(|v| !v.trim().is_empty()),
        nextflow_config: config.nextflow_config.filter(|v| !v.trim().is_empty()),
        environment: config.environment.filter(|e| !e.is_empty()).map(|entries| {
            entries.into_iter().map(|e| ConfigEnvVariable { name: e.name.trim().to_string(), ..e }).collect()
        }),
        managed_identity_id: config.managed_identity_id,
        host_key_fingerprint: tidy(config.host_key_fingerprint),
        cloud_identity: match (platform, config.cloud_identity) {
            (Platform::AwsBatch, Some(identity)) => {
                Some(check_cloud_identity(IdentityCloud::Aws, identity).map_err(bad)?)
            }
            (Platform::GoogleBatch, Some(identity)) => {
                Some(check_cloud_identity(IdentityCloud::Google, identity).map_err(bad)?)
            }
            // Strongroom has no Azure platform, and a cluster's runs act as the launcher's own
            // account (managed cluster identities).
            (_, Some(_)) => return Err(bad(format!(
                "A managed cloud identity (cloudIdentity) is for aws-batch and google-batch environments, not {platform}."
            ))),
            (_, None) => None,
        },
    };
    let c = &config;
    let is_aws = platform == Platform::AwsBatch;
    let is_google = platform == Platform::GoogleBatch;
    let is_hpc = platform.scheduler().is_some();
    absent(!is_aws && c.region.is_some(), "region", platform)?;
    absent(!is_aws && c.execution_role_arn.is_some(), "executionRole", platform)?;
    absent(!is_aws && c.job_queue.is_some(), "computeQueue", platform)?;
    absent(!is_aws && c.kms_key_id.is_some(), "kmsKeyId", platform)?;
    absent(!is_aws && c.custom_job_definition.is_some(), "customJobDefinition", platform)?;
    absent(!is_google && c.project.is_some(), "projectId", platform)?;
    absent(!is_google && c.location.is_some(), "location", platform)?;
    absent(is_hpc && c.endpoint_url.is_some(), "endpointUrl", platform)?;
    let is_cloud = is_aws || is_google;
    absent(!is_hpc && !is_cloud && c.work_dir.is_some(), "workDir", platform)?;
    cloud_settings::refuse_elsewhere(platform, c)?;
    absent(!is_hpc && c.launch_command.is_some(), "launchCommand", platform)?;
    let over_ssh = c.uses_ssh(platform);
    absent(!over_ssh && c.host_name.is_some(), "hostName", platform)?;
    absent(!over_ssh && c.managed_identity_id.is_some(), "managedIdentityId", platform)?;
    if !over_ssh {
        // The clouds' head job takes some of the grid's settings (Seqera's names on both).
        let ssh_only = ssh_settings::ssh_only_fields(c)
            .filter(|field| !(is_cloud && cloud_settings::takes(platform, field)));
        if let Some(field) = ssh_only {
            return Err(bad(format!(
                "{field} applies only to a cluster reached over SSH (with hostName or a managed identity)."
            )));
        }
    }
    match platform {
        Platform::AwsBatch => {
            required(&c.region, "region", platform)?;
            if !c.region.as_deref().is_some_and(is_aws_region) {
                return Err(bad("region must be an AWS region code such as eu-west-1."));
            }
            required(&c.job_queue, "computeQueue", platform)?;
            required(&c.execution_role_arn, "executionRole", platform)?;
            check_role_arn(c.execution_role_arn.as_deref().unwrap_or_default(), "executionRole")?;
            optional(&c.kms_key_id, "kmsKeyId")?;
            check_endpoint(&c.endpoint_url)?;
            cloud_settings::check(platform, c)?;
        }
        Platform::GoogleBatch => {
            required(&c.project, "projectId", platform)?;
            if !c.project.as_deref().is_some_and(is_gcp_project) {
                return Err(bad(
                    "projectId must be a Google Cloud project id: 6 to 30 lowercase letters, digits or \
                     hyphens, starting with a letter.",
                ));
            }
            required(&c.location, "location", platform)?;
            let location_ok = c.location.as_deref().is_some_and(|l| {
                l.contains('-')
                    && l.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            });
            if !location_ok {
                return Err(bad("location must be a Google Cloud region such as europe-west2."));
            }
            check_endpoint(&c.endpoint_url)?;
            cloud_settings::check(platform, c)?;
        }
        _ if over_ssh => ssh_settings::check(platform, c)?,
        _ => check_hpc(platform, c, local_root, host)?,
    }
    Ok(config)
}

fn check_hpc(
    platform: Platform,
    c: &ComputeConfig,
    local_root: &Path,
    host: &HpcHost,
) -> Result<(), AppError> {
    required(&c.work_dir, "workDir", platform)?;
    let work_dir = Path::new(c.work_dir.as_deref().unwrap_or_default());
    let plain = work_dir.components().all(|part| !matches!(part, std::path::Component::ParentDir));
    if !work_dir.is_absolute() || !plain {
        return Err(bad("workDir must be an absolute path (starting with /, without '..')."));
    }
    // Lexical only: whether the path exists is never looked at, so the answer reveals nothing.
    host.check_work_dir(c.work_dir.as_deref().unwrap_or_default()).map_err(bad)?;
    optional(&c.launch_command, "launchCommand")?;
    if platform == Platform::Local {
        // Workspace admins are not host administrators: a local environment may not write
        // outside Strongroom's own work area. (Launch commands are for instance admins only:
        // see `environment_rules::check_launch_command`.)
        if !work_dir.starts_with(local_root) {
            return Err(bad(format!(
                "workDir of a local-platform environment must be under {}.",
                local_root.display()
            )));
        }
    }
    Ok(())
}

/// Which credentials a platform takes: AWS Batch aws ones or none (the host's own credentials),
/// Google Batch google ones, a cluster over SSH ssh ones (none with a managed identity: each
/// launcher brings their own), HPC on the Strongroom host none.
pub(crate) fn check_credentials_fit(
    platform: Platform,
    config: &ComputeConfig,
    provider: Option<CloudProvider>,
) -> Result<(), AppError> {
    if config.cloud_identity.is_some() {
        return match provider {
            None => Ok(()),
            Some(_) => Err(bad(
                "An environment with a managed cloud identity (cloudIdentity) takes no credentials: its runs \
                 exchange Strongroom's short-lived tokens for the mapped cloud identity.",
            )),
        };
    }
    if config.uses_ssh(platform) {
        return match (config.managed_identity_id, provider) {
            (None, Some(CloudProvider::Ssh)) => Ok(()),
            (None, _) => Err(bad(format!(
                "Compute environments on {platform} over SSH need ssh credentials (the private key of \
                 userName), or a managed identity."
            ))),
            (Some(_), None) => Ok(()),
            (Some(_), Some(_)) => Err(bad(
                "An environment with a managed identity takes no credentials: each launcher uses the SSH key \
                 they registered under Your cluster credentials.",
            )),
        };
    }
    match (platform, provider) {
        (Platform::AwsBatch, None | Some(CloudProvider::Aws)) => Ok(()),
        (Platform::GoogleBatch, Some(CloudProvider::Google)) => Ok(()),
        (Platform::GoogleBatch, None) => {
            Err(bad("Compute environments on google-batch need google credentials."))
        }
        (Platform::AwsBatch | Platform::GoogleBatch, Some(other)) => {
            Err(bad(format!("Compute environments on {platform} cannot use {other} credentials.")))
        }
        (_, None) => Ok(()),
        (_, Some(_)) => Err(bad(format!("Compute environments on {platform} take no cloud credentials."))),
    }
}

/// Whether an environment would act as the Strongroom host's own cloud identity: AWS Batch with
/// no credentials, or with AWS credentials that hold no access key (a role assumed by the host).
/// That needs an instance administrator's grant for the workspace (`compute::host_identity`).
pub(crate) fn uses_host_identity(
    platform: Platform,
    config: &ComputeConfig,
    credentials: Option<&CredentialsPublic>,
) -> bool {
    platform == Platform::AwsBatch
        && config.cloud_identity.is_none()
        && credentials.is_none_or(|public| public.access_key.is_none())
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

    fn host() -> HpcHost {
        HpcHost { work_roots: vec!["/data/work".into(), "/scratch".into()], ..HpcHost::default() }
    }

    #[test]
    fn aws_batch_needs_region_queue_and_role_and_refuses_other_platforms_fields() {
        let root = Path::new("/data/work");
        assert!(check_config(Platform::AwsBatch, aws(), root, &host()).is_ok());
        for (config, field) in [
            (ComputeConfig { region: None, ..aws() }, "region"),
            (ComputeConfig { region: Some("Europe".into()), ..aws() }, "region"),
            (ComputeConfig { job_queue: Some(" ".into()), ..aws() }, "computeQueue"),
            (ComputeConfig { execution_role_arn: Some("exec".into()), ..aws() }, "executionRole"),
            (ComputeConfig { endpoint_url: Some("ftp://x".into()), ..aws() }, "endpointUrl"),
            (ComputeConfig { work_dir: Some("/w".into()), ..aws() }, "workDir"),
            (ComputeConfig { head_job_options: Some("-x".into()), ..aws() }, "headJobOptions"),
            (ComputeConfig { head_job_role: Some("role".into()), ..aws() }, "headJobRole"),
            (ComputeConfig { head_queue: Some("a b".into()), ..aws() }, "headQueue"),
            (
                ComputeConfig { service_account: Some("sa@p.iam.gserviceaccount.com".into()), ..aws() },
                "serviceAccount",
            ),
        ] {
            let message = check_config(Platform::AwsBatch, config, root, &host()).unwrap_err().to_string();
            assert!(message.contains(field), "{field}: {message}");
        }
    }

    #[test]
    fn local_environments_stay_under_the_data_dir() {
        let root = Path::new("/data/work");
        let local = |dir: &str, command: Option<&str>| ComputeConfig {
            work_dir: Some(dir.into()),
            launch_command: command.map(String::from),
            ..ComputeConfig::default()
        };
        let host = host();
        assert!(check_config(Platform::Local, local("/data/work/7", None), root, &host).is_ok());
        assert!(check_config(Platform::Local, local("/etc", None), root, &host).is_err());
        assert!(check_config(Platform::Local, local("/data/work/../x", None), root, &host).is_err());
        // A command is a matter of who sets it (instance admins only), not of the platform.
        assert!(
            check_config(Platform::Local, local("/data/work/7", Some("nextflow run x")), root, &host).is_ok()
        );
        assert!(check_config(Platform::Slurm, local("/scratch", Some("sbatch")), root, &host).is_ok());
        assert!(check_config(Platform::Slurm, local("scratch", None), root, &host).is_err());
    }

    #[test]
    fn hpc_work_dirs_stay_under_the_work_roots() {
        let root = Path::new("/data/work");
        let at = |dir: &str| ComputeConfig { work_dir: Some(dir.into()), ..ComputeConfig::default() };
        for platform in [Platform::Slurm, Platform::Lsf, Platform::AltairPbs] {
            assert!(check_config(platform, at("/scratch/lab"), root, &host()).is_ok());
            for outside in ["/", "/etc", "/home/someone", "/scratchy", "/scratch/../etc"] {
                let message = check_config(platform, at(outside), root, &host()).unwrap_err().to_string();
                assert!(message.contains("workDir"), "{outside}: {message}");
            }
        }
        let message = check_config(Platform::Slurm, at("/etc"), root, &host()).unwrap_err().to_string();
        assert!(message.contains("instance administrator allowed"), "{message}");
    }

    #[test]
    fn credentials_must_fit_the_platform() {
        use CloudProvider::*;
        let none = ComputeConfig::default();
        let fit = |platform, provider| check_credentials_fit(platform, &none, provider);
        assert!(fit(Platform::AwsBatch, None).is_ok());
        assert!(fit(Platform::AwsBatch, Some(Aws)).is_ok());
        assert!(fit(Platform::AwsBatch, Some(Google)).is_err());
        assert!(fit(Platform::GoogleBatch, None).is_err());
        assert!(fit(Platform::GoogleBatch, Some(Google)).is_ok());
        assert!(fit(Platform::Slurm, Some(Aws)).is_err());
        assert!(fit(Platform::Slurm, Some(Ssh)).is_err(), "ssh keys without a host");
        assert!(fit(Platform::Local, None).is_ok());
        let ssh = ComputeConfig { host_name: Some("login".into()), ..ComputeConfig::default() };
        assert!(check_credentials_fit(Platform::Slurm, &ssh, Some(Ssh)).is_ok());
        assert!(check_credentials_fit(Platform::Slurm, &ssh, None).is_err());
        assert!(check_credentials_fit(Platform::Slurm, &ssh, Some(Aws)).is_err());
        let managed = ComputeConfig { managed_identity_id: Some(1), ..ComputeConfig::default() };
        assert!(check_credentials_fit(Platform::Slurm, &managed, None).is_ok());
        assert!(check_credentials_fit(Platform::Slurm, &managed, Some(Ssh)).is_err());
    }

    #[test]
    fn aws_batch_without_access_keys_uses_the_host_identity() {
        let keys =
            CredentialsPublic { access_key: Some("AKIAIOSFODNN7EXAMPLE".into()), ..Default::default() };
        let role = CredentialsPublic {
            assume_role_arn: Some("arn:aws:iam::123456789012:role/r".into()),
            ..Default::default()
        };
        assert!(uses_host_identity(Platform::AwsBatch, &ComputeConfig::default(), None));
        assert!(uses_host_identity(Platform::AwsBatch, &ComputeConfig::default(), Some(&role)));
        assert!(!uses_host_identity(Platform::AwsBatch, &ComputeConfig::default(), Some(&keys)));
        assert!(!uses_host_identity(Platform::GoogleBatch, &ComputeConfig::default(), None));
        assert!(!uses_host_identity(Platform::Slurm, &ComputeConfig::default(), None));
    }
}
