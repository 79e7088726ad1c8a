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

/// A row of the Compute tab's credentials list, worked out on the server
/// (`CredentialsRow::of`): the browser's page carries no code to read the public fields, only
/// the line they make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsRow {
    pub id: i64,
    pub name: String,
    pub provider: CloudProvider,
    /// The public fields, as one line joined with " · ".
    pub details: String,
    /// Milliseconds since the Unix epoch, UTC.
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}

impl CredentialsRow {
    pub fn of(c: &CredentialsSummary) -> CredentialsRow {
        let p = &c.public;
        let details: Vec<String> = [
            p.access_key.as_ref().map(|k| format!("access key {k}")),
            p.assume_role_arn.as_ref().map(|r| format!("role {r}")),
            p.external_id.as_ref().map(|e| format!("external id {e}")),
            p.service_account_email.clone(),
            p.ssh_key_fingerprint.as_ref().map(|f| format!("key {f}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        CredentialsRow {
            id: c.id,
            name: c.name.clone(),
            provider: c.provider,
            details: details.join(" · "),
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_used_at: c.last_used_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_credentials_row_shows_its_public_fields_on_one_line() {
        let summary = CredentialsSummary {
            id: 4,
            workspace_id: 2,
            name: "aws-prod".into(),
            provider: CloudProvider::Aws,
            public: CredentialsPublic {
                access_key: Some("AKIAIOSFODNN7EXAMPLE".into()),
                assume_role_arn: Some("arn:aws:iam::123456789012:role/nf".into()),
                ..Default::default()
            },
            created_at: 10,
            updated_at: 20,
            last_used_at: None,
        };
        let row = CredentialsRow::of(&summary);
        assert_eq!(row.details, "access key AKIAIOSFODNN7EXAMPLE · role arn:aws:iam::123456789012:role/nf");
        assert_eq!(
            (row.id, row.name.as_str(), row.provider, row.created_at, row.updated_at, row.last_used_at),
            (4, "aws-prod", CloudProvider::Aws, 10, 20, None)
        );
        let ssh = CredentialsSummary {
            provider: CloudProvider::Ssh,
            public: CredentialsPublic {
                ssh_key_fingerprint: Some("SHA256:abc".into()),
                ..Default::default()
            },
            ..summary
        };
        assert_eq!(CredentialsRow::of(&ssh).details, "key SHA256:abc");
    }
}
