//! Where a run's copies go: the snapshot of a compute environment's target (platform, settings,
//! credentials id and pinned version) taken at launch and stored in `runs.target`, so cleanup
//! still knows where its copies are after the environment is edited or deleted.
//!
//! Guarantees: it holds no credential, only the id and version of a credentials row; its JSON
//! form is the one existing databases hold (`to_json` and `from_json` must stay compatible).

use app::model::{ComputeConfig, Platform};
use serde::{Deserialize, Serialize};

/// Where a run's copies go, as stored in `runs.target` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTarget {
    pub platform: Platform,
    pub config: ComputeConfig,
    #[serde(default)]
    pub credentials_id: Option<i64>,
    /// The version of the credentials the run was launched with (set at launch, absent for a
    /// Check or a reconciler pass): the run's cleanup opens that version even after the keys are
    /// replaced, so its copies are deleted in the account they were made in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_version: Option<i64>,
    /// For an environment that uses a managed identity: the launcher's own managed credentials
    /// (cluster account and SSH key) the run was launched with, so its cleanup connects as the
    /// same account. The config then holds the identity's host, port and pinned host key and
    /// the account's `userName`, copied at launch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_credentials_id: Option<i64>,
    /// For an environment with a managed cloud identity: who the run acts as (the subject, the
    /// mapped role and the facts its tokens state), fixed at launch so cleanup acts as the same
    /// identity. Holds no credential: tokens are minted from it when needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_session: Option<CloudSession>,
}

/// The managed cloud identity a run (or a Check) acts as.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudSession {
    /// The token's `sub` and `aud`.
    pub subject: String,
    pub audience: String,
    /// AWS: the IAM role the subject is mapped to (empty on Google).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role_arn: String,
    /// Google: the workload identity provider the token is exchanged at, and the service
    /// account to impersonate afterwards (none: the federated principal acts itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// An Azure app registration the run's head job may also act as (tokens for the audience
    /// `api://AzureADTokenExchange`), when the mapping names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_app: Option<app::model::AzureApp>,
    /// AWS `RoleSessionName`: names the user and the run for CloudTrail.
    pub session_name: String,
    pub org_id: i64,
    pub workspace_id: i64,
    pub user_id: i64,
    pub pipeline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    pub compute_env_id: String,
    pub launch_role: String,
}

impl CloudSession {
    /// What the run acts as, as an admin reads it: the role, the service account, or the
    /// federated principal of the provider.
    pub fn acts_as(&self) -> String {
        match (&self.service_account, &self.workload_identity_provider) {
            (Some(account), _) => format!("service account {account}"),
            (None, Some(provider)) => format!("workload identity provider {provider}"),
            (None, None) => format!("role {}", self.role_arn),
        }
    }
}

impl RunTarget {
    /// The form stored in `runs.target`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a target always serializes")
    }

    /// A stored target; the error says why it does not parse (never holds a credential).
    pub fn from_json(json: &str) -> Result<RunTarget, String> {
        serde_json::from_str(json).map_err(|e| format!("the run's target is unreadable: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_is_unchanged() {
        let config = ComputeConfig {
            region: Some("eu-west-1".into()),
            job_queue: Some("queue".into()),
            ..ComputeConfig::default()
        };
        let target = RunTarget {
            platform: Platform::AwsBatch,
            config,
            credentials_id: Some(4),
            credentials_version: Some(2),
            managed_credentials_id: None,
            cloud_session: None,
        };
        let stored =
            "{\"platform\":\"aws-batch\",\"config\":{\"region\":\"eu-west-1\",\"jobQueue\":\"queue\"},\
                      \"credentialsId\":4,\"credentialsVersion\":2}";
        assert_eq!(target.to_json(), stored);
        assert_eq!(RunTarget::from_json(stored), Ok(target.clone()));
        let unpinned = RunTarget { credentials_version: None, credentials_id: None, ..target };
        assert!(unpinned.to_json().ends_with(r#""credentialsId":null}"#), "{}", unpinned.to_json());
    }
}
