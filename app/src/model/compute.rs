//! Compute environments: where a workspace's pipelines run. Only non-secret settings live here;
//! credentials are stored apart, envelope-encrypted and write-only.
//!
//! Strongroom stores three kinds of environment (`compute_envs.platform`: `aws-batch`,
//! `google-batch`, `hpc`), while Seqera's API names a platform per batch scheduler
//! (`ComputeEnvResponseDto.platform` in `seqera-api-subset.yaml`). [`Platform`] is the API's
//! spelling, and maps to and from ours like this:
//!
//! | Strongroom kind | HPC scheduler | Seqera `platform` |
//! |---|---|---|
//! | `aws-batch` | – | `aws-batch` |
//! | `google-batch` | – | `google-batch` |
//! | `hpc` | `slurm` | `slurm-platform` |
//! | `hpc` | `lsf` | `lsf-platform` |
//! | `hpc` | `pbs` | `altair-platform` (Altair PBS Pro) |
//! | `hpc` | `local` | `local-platform` |

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A compute platform, spelled as Seqera's API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Platform {
    #[serde(rename = "aws-batch")]
    AwsBatch,
    #[serde(rename = "google-batch")]
    GoogleBatch,
    #[serde(rename = "slurm-platform")]
    Slurm,
    #[serde(rename = "lsf-platform")]
    Lsf,
    /// Altair PBS Pro.
    #[serde(rename = "altair-platform")]
    AltairPbs,
    #[serde(rename = "moab-platform")]
    Moab,
    /// Univa / Altair Grid Engine.
    #[serde(rename = "uge-platform")]
    Uge,
    #[serde(rename = "local-platform")]
    Local,
}

impl Platform {
    pub const ALL: [Platform; 8] = [
        Platform::AwsBatch,
        Platform::GoogleBatch,
        Platform::Slurm,
        Platform::Lsf,
        Platform::AltairPbs,
        Platform::Moab,
        Platform::Uge,
        Platform::Local,
    ];

    /// The Seqera platform id.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::AwsBatch => "aws-batch",
            Platform::GoogleBatch => "google-batch",
            Platform::Slurm => "slurm-platform",
            Platform::Lsf => "lsf-platform",
            Platform::AltairPbs => "altair-platform",
            Platform::Moab => "moab-platform",
            Platform::Uge => "uge-platform",
            Platform::Local => "local-platform",
        }
    }

    /// Strongroom's kind, as stored in `compute_envs.platform`.
    pub fn kind(self) -> &'static str {
        match self {
            Platform::AwsBatch => "aws-batch",
            Platform::GoogleBatch => "google-batch",
            _ => "hpc",
        }
    }

    /// The batch scheduler of an HPC platform.
    pub fn scheduler(self) -> Option<HpcScheduler> {
        match self {
            Platform::Slurm => Some(HpcScheduler::Slurm),
            Platform::Lsf => Some(HpcScheduler::Lsf),
            Platform::AltairPbs => Some(HpcScheduler::Pbs),
            Platform::Moab => Some(HpcScheduler::Moab),
            Platform::Uge => Some(HpcScheduler::Uge),
            Platform::Local => Some(HpcScheduler::Local),
            Platform::AwsBatch | Platform::GoogleBatch => None,
        }
    }

    /// The platform of a stored kind (and, for `hpc`, its scheduler); `None` if they disagree.
    pub fn from_stored(kind: &str, scheduler: Option<HpcScheduler>) -> Option<Platform> {
        match (kind, scheduler) {
            ("aws-batch", _) => Some(Platform::AwsBatch),
            ("google-batch", _) => Some(Platform::GoogleBatch),
            ("hpc", Some(s)) => Some(s.platform()),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("Unknown compute platform '{s}'."))
    }
}

/// The batch scheduler of an HPC compute environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HpcScheduler {
    Slurm,
    Lsf,
    Pbs,
    Moab,
    /// Univa / Altair Grid Engine (SGE's successor).
    Uge,
    /// Runs Nextflow on the Strongroom host itself.
    Local,
}

impl HpcScheduler {
    pub fn as_str(self) -> &'static str {
        match self {
            HpcScheduler::Slurm => "slurm",
            HpcScheduler::Lsf => "lsf",
            HpcScheduler::Pbs => "pbs",
            HpcScheduler::Moab => "moab",
            HpcScheduler::Uge => "uge",
            HpcScheduler::Local => "local",
        }
    }

    pub fn platform(self) -> Platform {
        match self {
            HpcScheduler::Slurm => Platform::Slurm,
            HpcScheduler::Lsf => Platform::Lsf,
            HpcScheduler::Pbs => Platform::AltairPbs,
            HpcScheduler::Moab => Platform::Moab,
            HpcScheduler::Uge => Platform::Uge,
            HpcScheduler::Local => Platform::Local,
        }
    }
}

impl FromStr for HpcScheduler {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "slurm" => Ok(HpcScheduler::Slurm),
            "lsf" => Ok(HpcScheduler::Lsf),
            "pbs" => Ok(HpcScheduler::Pbs),
            "moab" => Ok(HpcScheduler::Moab),
            "uge" => Ok(HpcScheduler::Uge),
            "local" => Ok(HpcScheduler::Local),
            _ => Err(format!("Unknown HPC scheduler '{s}'.")),
        }
    }
}

/// The non-secret settings of a compute environment, as stored in `compute_envs.config` (JSON).
/// Which fields are set depends on the platform; none of them is a credential. `Hash`: it is part
/// of the key of the server's open stores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputeConfig {
    // AWS Batch
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_job_definition: Option<bool>,
    /// AWS Batch: the IAM role the Nextflow head job runs as (Seqera's `headJobRole`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_job_role: Option<String>,
    // The cloud head job (AWS Batch, Google Batch): Seqera's `headJobCpus`, `headJobMemoryMb`,
    // and Strongroom's `headJobImage` (Seqera has no setting for it), with defaults when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_job_cpus: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_job_memory_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_job_image: Option<String>,
    /// AWS or Google: an emulator or private endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    // Google Batch
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Google Batch: the service account the head job runs as, and its network and subnetwork
    /// (Seqera's `serviceAccount`, `network`, `subnetwork`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnetwork: Option<String>,
    // HPC
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<HpcScheduler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_command: Option<String>,
    // HPC over SSH: Seqera's `AbstractGridConfig` names. With `hostName` set, the cluster is
    // reached over SSH and nothing is written on the Strongroom host; without it (and always for
    // `local-platform`), the work directory is on the Strongroom host under an allowed root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The cluster account for shared SSH credentials (a managed identity uses each launcher's
    /// own registered account instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_job_options: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_run_script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_run_script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextflow_config: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Vec<ConfigEnvVariable>>,
    /// Runs as each launcher's own cluster account, registered with this managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_identity_id: Option<i64>,
    /// The cluster's pinned SSH host key, as OpenSSH prints it (`SHA256:<base64>`): given by an
    /// admin or recorded by the first successful Check. A different key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key_fingerprint: Option<String>,
    /// AWS or Google: runs act as short-lived identities exchanged for Strongroom's OIDC tokens
    /// (managed mode) instead of stored keys (`model::cloud_identity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_identity: Option<crate::model::CloudIdentity>,
}

/// An environment variable of a compute environment (Seqera's `ConfigEnvVariable`): set in the
/// head job, in the compute jobs, or both. Not a secret: secrets go in the Secrets tab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigEnvVariable {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub head: bool,
    #[serde(default)]
    pub compute: bool,
}

impl ComputeConfig {
    /// Whether the cluster is reached over SSH (an HPC platform other than local, with a host).
    pub fn uses_ssh(&self, platform: Platform) -> bool {
        platform != Platform::Local
            && platform.scheduler().is_some()
            && (self.host_name.as_deref().is_some_and(|h| !h.trim().is_empty())
                || self.managed_identity_id.is_some())
    }
}

/// A compute environment as listed and described. Holds no credential, only its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeEnvSummary {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub platform: Platform,
    /// `ComputeEnv.Status` in Seqera's API: `AVAILABLE`, `INVALID`, ...
    pub status: String,
    pub config: ComputeConfig,
    pub credentials_id: Option<i64>,
    /// Milliseconds since the Unix epoch, UTC.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A compute environment as the Compute tab lists it: what its row shows, worked out by the
/// server (`ComputeEnvRow::of`), so the browser's page carries no code to read an environment's
/// settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeEnvRow {
    pub id: i64,
    pub name: String,
    pub platform: Platform,
    /// `ComputeEnvSummary::status`.
    pub status: String,
    /// The settings worth seeing at a glance, per platform, joined with " · ".
    pub key_settings: String,
    /// Whether its runs act as managed cloud identities (no stored keys).
    pub managed_identity: bool,
    pub credentials_id: Option<i64>,
}

impl ComputeEnvRow {
    pub fn of(env: &ComputeEnvSummary) -> ComputeEnvRow {
        let c = &env.config;
        let key_settings: Vec<String> = match env.platform {
            Platform::AwsBatch => [
                c.region.clone(),
                c.job_queue.as_ref().map(|q| format!("queue {q}")),
                c.execution_role_arn.as_ref().map(|r| format!("role {r}")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Platform::GoogleBatch => [c.project.clone(), c.location.clone()].into_iter().flatten().collect(),
            _ => c.work_dir.iter().cloned().collect(),
        };
        ComputeEnvRow {
            id: env.id,
            name: env.name.clone(),
            platform: env.platform,
            status: env.status.clone(),
            key_settings: key_settings.join(" · "),
            managed_identity: c.cloud_identity.is_some(),
            credentials_id: env.credentials_id,
        }
    }
}

/// The outcome of a compute environment's check (its preflight, run on demand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeCheck {
    /// `AVAILABLE` or `INVALID`, now stored as the environment's status.
    pub status: String,
    /// What failed, in plain words, naming the missing permission.
    pub message: Option<String>,
    /// How to fix it: for AWS, the IAM policies to attach, ready to copy.
    pub fix: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_round_trips_through_its_stored_kind() {
        for p in Platform::ALL {
            assert_eq!(Platform::from_stored(p.kind(), p.scheduler()), Some(p));
            assert_eq!(p.as_str().parse::<Platform>(), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(Platform::from_stored("hpc", None), None);
        assert_eq!(HpcScheduler::Pbs.platform().as_str(), "altair-platform");
    }

    fn env(platform: Platform, config: ComputeConfig) -> ComputeEnvSummary {
        ComputeEnvSummary {
            id: 3,
            workspace_id: 1,
            name: "env".into(),
            platform,
            status: "INVALID".into(),
            config,
            credentials_id: Some(8),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_listed_environment_shows_its_platforms_key_settings_and_whether_it_is_managed() {
        let aws = ComputeConfig {
            region: Some("eu-west-1".into()),
            job_queue: Some("nf-queue".into()),
            kms_key_id: Some("not shown".into()),
            ..Default::default()
        };
        let row = ComputeEnvRow::of(&env(Platform::AwsBatch, aws));
        assert_eq!(row.key_settings, "eu-west-1 · queue nf-queue");
        assert_eq!(
            (row.id, row.status.as_str(), row.credentials_id, row.managed_identity),
            (3, "INVALID", Some(8), false)
        );
        let google = ComputeConfig {
            project: Some("proj".into()),
            location: Some("europe-west2".into()),
            cloud_identity: Some(crate::model::CloudIdentity::default()),
            ..Default::default()
        };
        let row = ComputeEnvRow::of(&env(Platform::GoogleBatch, google));
        assert_eq!((row.key_settings.as_str(), row.managed_identity), ("proj · europe-west2", true));
        let slurm = ComputeConfig { work_dir: Some("/scratch/nf".into()), ..Default::default() };
        assert_eq!(ComputeEnvRow::of(&env(Platform::Slurm, slurm)).key_settings, "/scratch/nf");
    }
}
