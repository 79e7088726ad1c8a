//! Runs: a launched pipeline, and the per-run copies of its secrets. Nothing here holds a value.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Seqera's `WorkflowStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Submitted,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Unknown,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Submitted,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Submitted => "SUBMITTED",
            RunStatus::Running => "RUNNING",
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Failed => "FAILED",
            RunStatus::Cancelled => "CANCELLED",
            RunStatus::Unknown => "UNKNOWN",
        }
    }

    /// Whether the run has ended: its copies must go.
    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled)
    }
}

impl FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown run status '{s}'"))
    }
}

/// Where a run's copies are in their lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStage {
    /// Copies are being made.
    Provisioning,
    /// Every copy exists and the launch environment is ready.
    Launched,
    /// The run ended; copies are being deleted.
    Cleaning,
    /// Every copy is gone.
    Cleaned,
    /// A copy could not be deleted; the reconciler keeps trying.
    CleanupFailed,
}

impl RunStage {
    pub const ALL: [RunStage; 5] = [
        RunStage::Provisioning,
        RunStage::Launched,
        RunStage::Cleaning,
        RunStage::Cleaned,
        RunStage::CleanupFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStage::Provisioning => "provisioning",
            RunStage::Launched => "launched",
            RunStage::Cleaning => "cleaning",
            RunStage::Cleaned => "cleaned",
            RunStage::CleanupFailed => "cleanup_failed",
        }
    }
}

impl FromStr for RunStage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStage::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| format!("unknown run stage '{s}'"))
    }
}

/// The state of one copy: planned → creating → created → deleting → deleted, or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CopyState {
    Planned,
    Creating,
    Created,
    Deleting,
    Deleted,
    Failed,
}

impl CopyState {
    pub const ALL: [CopyState; 6] = [
        CopyState::Planned,
        CopyState::Creating,
        CopyState::Created,
        CopyState::Deleting,
        CopyState::Deleted,
        CopyState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CopyState::Planned => "planned",
            CopyState::Creating => "creating",
            CopyState::Created => "created",
            CopyState::Deleting => "deleting",
            CopyState::Deleted => "deleted",
            CopyState::Failed => "failed",
        }
    }
}

impl FromStr for CopyState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CopyState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown copy state '{s}'"))
    }
}

/// Whose value a copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    Workspace,
    User,
}

impl SecretSource {
    pub const ALL: [SecretSource; 2] = [SecretSource::Workspace, SecretSource::User];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretSource::Workspace => "workspace",
            SecretSource::User => "user",
        }
    }
}

impl FromStr for SecretSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecretSource::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown secret source '{s}'"))
    }
}

/// One name of the effective set: the value a launch will copy, and whether the launcher's own
/// secret replaces a workspace secret of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveSecret {
    pub name: String,
    pub source: SecretSource,
    /// The user's secret wins over a chosen workspace secret of the same name.
    pub overrides_workspace: bool,
}

/// The secrets a launch copies: every chosen name once, the launcher's own value winning over the
/// workspace's (a user secret overrides a workspace secret of the same name, the rule both secret
/// lists show with their badges). Sorted by name; duplicates in the input are ignored.
pub fn effective_set(workspace: &[String], user: &[String]) -> Vec<EffectiveSecret> {
    let mut set: std::collections::BTreeMap<&str, EffectiveSecret> = Default::default();
    for name in workspace {
        set.insert(
            name,
            EffectiveSecret {
                name: name.clone(),
                source: SecretSource::Workspace,
                overrides_workspace: false,
            },
        );
    }
    for name in user {
        let overrides_workspace = workspace.contains(name);
        set.insert(
            name,
            EffectiveSecret { name: name.clone(), source: SecretSource::User, overrides_workspace },
        );
    }
    set.into_values().collect()
}

/// What the launch form sends. Every field may be missing: the form encoding of server functions
/// leaves out empty lists and `None`s altogether.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LaunchRequest {
    pub compute_env_id: Option<i64>,
    pub pipeline: String,
    pub run_name: Option<String>,
    pub revision: Option<String>,
    pub workspace_secrets: Vec<String>,
    pub user_secrets: Vec<String>,
    /// Seqera's launch fields for the head job Strongroom starts in the cloud (and over SSH):
    /// the pipeline's parameters (JSON or YAML), extra Nextflow configuration, scripts run
    /// before and after Nextflow, and the work directory (`s3://…`, `gs://…`). None is a secret.
    pub launch_fields: LaunchFields,
    /// With a managed cloud identity in per-user mode: which of the launcher's mapped identities
    /// the run acts as (its position in the environment's mappings); the first one otherwise.
    pub cloud_identity_mapping: Option<usize>,
}

/// The launch request's head-job fields, named as in Seqera's `WorkflowLaunchRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LaunchFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_run_script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_run_script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_dir: Option<String>,
    /// Nextflow configuration profiles (`-profile a,b`), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_profiles: Vec<String>,
}

impl LaunchFields {
    pub fn is_empty(&self) -> bool {
        *self == LaunchFields::default()
    }
}

/// What the launch form offers: the environments, and the names of the secrets the caller may
/// choose (the workspace's and their own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchOptions {
    pub compute_envs: Vec<LaunchEnv>,
    pub workspace_secrets: Vec<String>,
    pub user_secrets: Vec<String>,
    /// Whether the caller's role allows launching here.
    pub can_launch: bool,
    /// The environment of the caller's latest launch here: the form's default while it is
    /// available.
    pub last_compute_env_id: Option<i64>,
}

/// A compute environment as the launch form offers it: only what the form shows, worked out by
/// the server, so the browser's launch page carries no code to read an environment's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchEnv {
    pub id: i64,
    /// What the list says: "name (platform) · status".
    pub label: String,
    /// Whether its last Check passed (status `AVAILABLE`): the form prefers such an environment.
    pub available: bool,
    /// With a managed identity per launching user: the caller's own mappings, which a launch
    /// picks by position. Empty otherwise (the server refuses anyone else's).
    pub your_identity_roles: Vec<IdentityRole>,
}

/// One of the caller's mappings: its position among the environment's, and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRole {
    pub index: usize,
    pub label: String,
}

impl LaunchEnv {
    /// `env` as the launch form offers it to the user `user_id`.
    pub fn offered_to(env: &crate::model::ComputeEnvSummary, user_id: i64) -> LaunchEnv {
        let your_identity_roles = match &env.config.cloud_identity {
            Some(identity) if identity.subject == crate::model::SubjectGranularity::User => identity
                .mappings_for(user_id, |_| false)
                .into_iter()
                .map(|(index, mapping)| IdentityRole { index, label: mapping.describe_all() })
                .collect(),
            _ => Vec::new(),
        };
        LaunchEnv {
            id: env.id,
            label: format!("{} ({}) · {}", env.name, env.platform.as_str(), env.status.to_lowercase()),
            available: env.status == "AVAILABLE",
            your_identity_roles,
        }
    }
}

/// One copy as the run page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyView {
    pub name: String,
    pub source: SecretSource,
    pub state: CopyState,
    /// Where the copy is (ARN, resource name, file path); never the value.
    pub reference: Option<String>,
    /// The last error, in plain words.
    pub error: Option<String>,
    pub attempts: i64,
    pub updated_at: i64,
}

/// A run as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub workspace_id: i64,
    pub run_name: String,
    pub pipeline: String,
    pub status: RunStatus,
    pub stage: RunStage,
    pub launched_by: String,
    pub compute_env_name: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

/// A run as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetail {
    pub summary: RunSummary,
    pub revision: Option<String>,
    /// Why the run failed or could not be cleaned, in plain words.
    pub message: Option<String>,
    pub started_at: Option<i64>,
    pub heartbeat_at: Option<i64>,
    /// The launch environment (names and non-secret values only).
    pub launch_env: Vec<(String, String)>,
    /// The command that starts Nextflow with this environment and reports back here.
    pub command: String,
    pub copies: Vec<CopyView>,
    /// Whether the caller may cancel it.
    pub can_cancel: bool,
    /// The Nextflow head job Strongroom submitted to the cluster's scheduler (HPC over SSH);
    /// `None` until the scheduler has accepted one, and for other targets.
    #[serde(default)]
    pub head_job: Option<HeadJobView>,
}

/// A run's head job as the scheduler last told it. Seqera shows a run's job as `jobInfo`
/// (`operationId`, `status`, `message`); the times are Strongroom's, to show how long the job
/// waited in the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadJobView {
    /// The scheduler's job id (`sbatch --parsable`, `bsub`, `qsub`).
    pub job_id: String,
    /// `QUEUED`, `RUNNING`, `SUCCEEDED`, `FAILED`, `GONE` (the scheduler forgot it), or
    /// `CANCELLED` (Strongroom stopped it when the run ended).
    pub state: String,
    /// The scheduler's own words for how it ended (state, exit code, reason).
    pub reason: Option<String>,
    pub submitted_at: Option<i64>,
    /// When Strongroom first saw it running.
    pub started_at: Option<i64>,
    /// Where the cloud's console shows the job (AWS Batch, Google Batch); none on a cluster.
    #[serde(default)]
    pub console_url: Option<String>,
}

impl HeadJobView {
    /// How long the job waited in the scheduler's queue: until it started, or until `now` while
    /// it is still queued. `None` when that is not known (it ended before a poll saw it run).
    pub fn queued_ms(&self, now: i64) -> Option<i64> {
        let submitted = self.submitted_at?;
        match (self.started_at, self.state.as_str()) {
            (Some(started), _) => Some((started - submitted).max(0)),
            (None, "QUEUED") => Some((now - submitted).max(0)),
            (None, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn env_with(identity: Option<crate::model::CloudIdentity>) -> crate::model::ComputeEnvSummary {
        crate::model::ComputeEnvSummary {
            id: 7,
            workspace_id: 1,
            name: "batch".into(),
            platform: crate::model::Platform::AwsBatch,
            status: "AVAILABLE".into(),
            config: crate::model::ComputeConfig { cloud_identity: identity, ..Default::default() },
            credentials_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn mapping(user_id: i64, role: &str) -> crate::model::IdentityMapping {
        crate::model::IdentityMapping {
            user_id: Some(user_id),
            role_arn: Some(format!("arn:aws:iam::123456789012:role/{role}")),
            ..Default::default()
        }
    }

    #[test]
    fn the_launch_form_offers_only_the_callers_own_identity_roles_by_their_position() {
        use crate::model::{CloudIdentity, SubjectGranularity};
        let per_user = CloudIdentity {
            subject: SubjectGranularity::User,
            audience: None,
            mappings: vec![mapping(5, "alice-a"), mapping(9, "bob"), mapping(5, "alice-b")],
        };
        let offered = LaunchEnv::offered_to(&env_with(Some(per_user.clone())), 5);
        assert_eq!(
            (offered.id, offered.label.as_str(), offered.available),
            (7, "batch (aws-batch) · available", true)
        );
        assert_eq!(
            offered.your_identity_roles,
            vec![
                IdentityRole { index: 0, label: "role/alice-a".into() },
                IdentityRole { index: 2, label: "role/alice-b".into() },
            ]
        );
        // Someone with no mapping of their own is offered none, not another user's.
        assert!(LaunchEnv::offered_to(&env_with(Some(per_user.clone())), 3).your_identity_roles.is_empty());
        // Nor is there a choice for an identity shared by the workspace, or with stored keys.
        let shared = CloudIdentity { subject: SubjectGranularity::Workspace, ..per_user };
        assert!(LaunchEnv::offered_to(&env_with(Some(shared)), 5).your_identity_roles.is_empty());
        assert!(LaunchEnv::offered_to(&env_with(None), 5).your_identity_roles.is_empty());
    }

    #[test]
    fn a_user_secret_wins_over_a_workspace_secret_of_the_same_name() {
        let set = effective_set(&names(&["DB_PASS", "API_KEY"]), &names(&["DB_PASS", "MINE"]));
        let by_name: Vec<_> =
            set.iter().map(|e| (e.name.as_str(), e.source, e.overrides_workspace)).collect();
        assert_eq!(
            by_name,
            vec![
                ("API_KEY", SecretSource::Workspace, false),
                ("DB_PASS", SecretSource::User, true),
                ("MINE", SecretSource::User, false),
            ]
        );
    }

    #[test]
    fn a_head_job_was_queued_until_it_started_or_until_now() {
        let mut job = HeadJobView {
            job_id: "17".into(),
            state: "QUEUED".into(),
            reason: None,
            submitted_at: Some(1_000),
            started_at: None,
            console_url: None,
        };
        assert_eq!(job.queued_ms(4_000), Some(3_000));
        job.state = "RUNNING".into();
        job.started_at = Some(2_500);
        assert_eq!(job.queued_ms(9_000), Some(1_500));
        job.state = "FAILED".into();
        job.started_at = None;
        assert_eq!(job.queued_ms(9_000), None, "it ended before anyone saw it start");
    }

    #[test]
    fn statuses_and_states_round_trip_through_their_names() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in CopyState::ALL {
            assert_eq!(s.as_str().parse::<CopyState>(), Ok(s));
        }
        for s in RunStage::ALL {
            assert_eq!(s.as_str().parse::<RunStage>(), Ok(s));
        }
        for s in SecretSource::ALL {
            assert_eq!(s.as_str().parse::<SecretSource>(), Ok(s));
        }
        assert!("cleaning_up".parse::<RunStage>().is_err(), "an unknown name is an error");
        assert!(!RunStatus::Running.is_final() && RunStatus::Cancelled.is_final());
    }
}
