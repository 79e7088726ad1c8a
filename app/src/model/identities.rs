//! Managed identities (Seqera's `/identities`): an organization describes a cluster once (name,
//! scheduler platform, SSH host and port, pinned host key) and each member registers their own
//! cluster account and SSH key for it, so their runs execute as themselves. What is here is
//! what may be shown: the cluster's description, each member's account name and the fingerprint
//! of their key's public half. There is no field for a private key or a passphrase, on purpose.

use super::Platform;
use serde::{Deserialize, Serialize};

/// The schedulers a managed identity may describe (Seqera's `CreateManagedIdentityRequest`).
pub const MANAGED_IDENTITY_PLATFORMS: [Platform; 5] =
    [Platform::Slurm, Platform::Lsf, Platform::AltairPbs, Platform::Moab, Platform::Uge];

/// Where each member adds their own cluster account and key ("Your cluster credentials"); the
/// launch's refusal for a member without credentials points here.
pub const CLUSTER_CREDENTIALS_PAGE: &str = "/user/cluster-credentials";

/// SSH's port when the identity names none.
pub const DEFAULT_SSH_PORT: u16 = 22;

/// The cluster's description, in Seqera's `AbstractGridConfig` names, plus Strongroom's pinned
/// host key (`SHA256:…` as OpenSSH prints it; `None` until an owner gives it or a Check records
/// it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedIdentityConfig {
    pub host_name: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedIdentity {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub platform: Platform,
    pub config: ManagedIdentityConfig,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new managed identity. `port` `None` means 22.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedIdentityInput {
    pub name: String,
    pub platform: Platform,
    pub host_name: String,
    pub port: Option<u16>,
    pub host_key_fingerprint: Option<String>,
}

/// What an update changes: absent fields stay. The platform cannot change (the compute
/// environments that use the identity were made for its scheduler).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedIdentityChange {
    pub name: Option<String>,
    pub host_name: Option<String>,
    pub port: Option<u16>,
    pub host_key_fingerprint: PinnedKeyChange,
}

/// What an update does to the pinned host key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PinnedKeyChange {
    #[default]
    Keep,
    /// Unpin: the next successful Check records the key it finds.
    Remove,
    /// Pin this fingerprint (the cluster's key really changed, or is known in advance).
    Set(String),
}

/// One member of the identity's organization and their managed credentials on it, if any
/// (`credentials_id` `None`: they have not registered, Seqera's "missing").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedCredentialsSummary {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub credentials_id: Option<i64>,
    /// The cluster (POSIX) account.
    pub user_name: Option<String>,
    /// The public half of the registered key, `SHA256:…`.
    pub public_key_fingerprint: Option<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A managed identity of one of the caller's organizations, with the caller's own credentials
/// on it (for "Your cluster credentials").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterCredentialsEntry {
    pub identity: ManagedIdentity,
    pub org_name: String,
    pub credentials: Option<ManagedCredentialsSummary>,
}

/// A cluster account name as POSIX tools accept it (`^[a-z_][a-z0-9_.-]{0,31}$`).
pub fn check_cluster_user_name(user_name: &str) -> Result<(), String> {
    let mut chars = user_name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if user_name.is_empty() {
        return Err("Give your user name on the cluster (the account you log in with).".into());
    }
    if !first_ok || !rest_ok || user_name.len() > 32 {
        // The input is not quoted back: a key pasted into the wrong field must not be echoed.
        return Err("The cluster user name must be a POSIX account name: 1 to 32 lower-case letters, \
                    digits, '_', '.' or '-', starting with a letter or '_' (for example: jsmith)."
            .into());
    }
    Ok(())
}

/// A host name (DNS labels of letters, digits and '-') or an IPv4 or IPv6 address.
pub fn check_host_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err(
            "Give the cluster's host name (its login node, for example login.hpc.example.org).".into()
        );
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if host.len() > 253 || !host.split('.').all(label_ok) {
        return Err("The host name must be a DNS name (letters, digits, '-' and dots, for example \
             login.hpc.example.org) or an IP address."
            .into());
    }
    Ok(())
}

/// A host key fingerprint as OpenSSH prints it: `SHA256:` and 43 base64 characters.
pub fn check_host_key_fingerprint(fingerprint: &str) -> Result<(), String> {
    let digest = fingerprint.strip_prefix("SHA256:").unwrap_or_default();
    let base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    // 43 characters carry 258 bits: the last one's two low bits are padding and must be zero.
    let last_ok = digest.chars().last().is_some_and(|c| "AEIMQUYcgkosw048".contains(c));
    if digest.len() != 43 || !digest.chars().all(base64) || !last_ok {
        return Err("The host key fingerprint must be written as OpenSSH prints it: SHA256: followed by 43 \
             characters (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the cluster shows it)."
            .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_account_names_follow_the_posix_rule() {
        for ok in ["jsmith", "_svc", "a", "ab.c-d_1", &"a".repeat(32)] {
            assert_eq!(check_cluster_user_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "JSmith", "1abc", "-a", "a b", "a;rm", "a$", &"a".repeat(33)] {
            assert!(check_cluster_user_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_names_are_dns_names_or_addresses() {
        for ok in ["login.hpc.example.org", "127.0.0.1", "::1", "cluster-1"] {
            assert_eq!(check_host_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-a.org", "a..org", "host name", "a;b", "user@host"] {
            assert!(check_host_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_are_openssh_sha256() {
        let ok = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
        assert_eq!(check_host_key_fingerprint(ok), Ok(()));
        for bad in ["", "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s", "SHA256:abc", "MD5:aa:bb", &ok[..49]] {
            assert!(check_host_key_fingerprint(bad).is_err(), "{bad}");
        }
        assert!(check_host_key_fingerprint(&format!("{ok}=")).is_err());
        assert!(check_host_key_fingerprint("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2t").is_err());
    }
}
