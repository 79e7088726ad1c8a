//! Cloud credentials as anyone in the workspace may see them: name, provider, the non-secret
//! fields and dates. There is no field for a secret key or a private key, on purpose: key
//! material goes in through the server's write path and comes out only on the provisioning path.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The cloud a set of credentials is for, spelled as Seqera's `Credentials.provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudProvider {
    Aws,
    Google,
    /// An SSH private key (and optional passphrase) for an HPC cluster's login node.
    Ssh,
}

impl CloudProvider {
    pub const ALL: [CloudProvider; 3] = [CloudProvider::Aws, CloudProvider::Google, CloudProvider::Ssh];

    pub fn as_str(self) -> &'static str {
        match self {
            CloudProvider::Aws => "aws",
            CloudProvider::Google => "google",
            CloudProvider::Ssh => "ssh",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CloudProvider::Aws => "Amazon Web Services",
            CloudProvider::Google => "Google Cloud",
            CloudProvider::Ssh => "SSH (HPC cluster)",
        }
    }
}

impl fmt::Display for CloudProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CloudProvider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CloudProvider::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| "The provider must be 'aws', 'google' or 'ssh'.".to_string())
    }
}

/// The non-secret fields of a set of credentials (Seqera's `AwsSecurityKeys` and
/// `GoogleSecurityKeys` without their write-only fields), as stored in `credentials.public_keys`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsPublic {
    /// The AWS access key id (not secret: it names the key, as in CloudTrail entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// From the Google key's `client_email`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_email: Option<String>,
    /// The SSH key's public half, as OpenSSH prints its fingerprint (`SHA256:…`), so an admin
    /// can find it in `authorized_keys` without the private key ever being shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsSummary {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub provider: CloudProvider,
    pub public: CredentialsPublic,
    /// Milliseconds since the Unix epoch, UTC.
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}

/// A compute environment to create or to change, as the UI and the REST API hand it over. Holds
/// no credential, only the id of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeEnvInput {
    pub name: String,
    pub platform: super::Platform,
    pub credentials_id: Option<i64>,
    pub config: super::ComputeConfig,
}
