//! What can go wrong over SSH, in plain words, and how each maps to what the jobs do next
//! (`ProviderError`: retry or not). Messages name hosts, accounts, paths and fingerprints, never
//! a key, a passphrase, a token or a value.

use crate::providers::ProviderError;
use russh_sftp::protocol::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshError {
    /// The host could not be reached (name not resolved, refused, no route, no answer).
    Unreachable(String),
    /// The pinned host key differs from the one the host presented: nothing was sent.
    HostKeyChanged { pinned: String, seen: String },
    /// The host refused the key for the account.
    AuthRefused { user: String, host: String, fingerprint: String, public_line: String },
    /// The connection dropped mid-way: the store reconnects once and tries again.
    Transport(String),
    /// A step did not finish in time.
    Timeout(String),
    /// A command failed in a way that may pass (a scheduler tool that could not answer now).
    Failed(String),
    /// The account may not do this on the cluster.
    Denied { permission: String, message: String },
    /// What the cluster holds or answered cannot be used as it is (a directory that is not the
    /// account's, a command that failed, output that does not parse).
    Rejected(String),
}

pub const HOST_KEY_FIX: &str = "If the cluster's host key really changed (ask its administrators), an \
     admin replaces the pinned fingerprint (hostKeyFingerprint) with the new one in the compute \
     environment or managed identity; otherwise someone may be intercepting the connection.";

impl SshError {
    /// Whether reconnecting can help: the connection itself broke.
    pub fn is_transport(&self) -> bool {
        matches!(self, SshError::Transport(_))
    }

    pub fn message(&self) -> String {
        match self {
            SshError::Unreachable(m)
            | SshError::Transport(m)
            | SshError::Timeout(m)
            | SshError::Failed(m) => m.clone(),
            SshError::Rejected(m) | SshError::Denied { message: m, .. } => m.clone(),
            SshError::HostKeyChanged { pinned, seen } => format!(
                "the cluster's host key is not the pinned one: pinned {pinned}, the host presented \
                 {seen}; Strongroom refused it before logging in and sent nothing"
            ),
            SshError::AuthRefused { user, host, fingerprint, .. } => {
                format!("{host} refused the SSH key {fingerprint} for the account {user}")
            }
        }
    }
}

impl From<SshError> for ProviderError {
    fn from(error: SshError) -> ProviderError {
        let message = error.message();
        match error {
            SshError::Unreachable(_)
            | SshError::Transport(_)
            | SshError::Timeout(_)
            | SshError::Failed(_) => ProviderError::Unavailable(message),
            SshError::HostKeyChanged { .. } => ProviderError::Rejected(format!("{message}. {HOST_KEY_FIX}")),
            SshError::AuthRefused { user, public_line, .. } => ProviderError::Denied {
                permission: format!("SSH login as {user}"),
                message: format!(
                    "{message}: add this public key to ~{user}/.ssh/authorized_keys: {public_line}"
                ),
            },
            SshError::Denied { permission, .. } => ProviderError::Denied { permission, message },
            SshError::Rejected(_) => ProviderError::Rejected(message),
        }
    }
}

/// A russh failure after connecting: the connection is gone or unusable.
pub fn transport(step: &str, error: &russh::Error) -> SshError {
    SshError::Transport(format!("the SSH connection failed while trying to {step}: {error}"))
}

/// An SFTP failure on `what` (a path inside the work directory or a word for it).
pub fn sftp(step: &str, what: &str, error: russh_sftp::client::error::Error) -> SshError {
    use russh_sftp::client::error::Error;
    match error {
        Error::Status(status) if status.status_code == StatusCode::PermissionDenied => SshError::Denied {
            permission: "write access to the work directory".into(),
            message: format!("could not {step} {what}: permission denied"),
        },
        Error::Status(status) => {
            SshError::Rejected(format!("could not {step} {what}: {}", status_words(status.status_code)))
        }
        Error::Timeout => SshError::Timeout(format!("the cluster did not answer in time to {step} {what}")),
        Error::Limited(m) => SshError::Rejected(format!("could not {step} {what}: {m}")),
        Error::IO(m) | Error::UnexpectedBehavior(m) => {
            SshError::Transport(format!("the SFTP session failed while trying to {step} {what}: {m}"))
        }
        Error::UnexpectedPacket => {
            SshError::Transport(format!("the SFTP server answered oddly while trying to {step} {what}"))
        }
    }
}

fn status_words(code: StatusCode) -> &'static str {
    match code {
        StatusCode::NoSuchFile => "it does not exist",
        StatusCode::PermissionDenied => "permission denied",
        StatusCode::Failure => "the cluster refused (it may exist already, or the disk is full)",
        StatusCode::OpUnsupported => "the cluster's SFTP server does not support it",
        _ => "the SFTP request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_host_key_names_both_fingerprints_and_the_fix() {
        let error = SshError::HostKeyChanged { pinned: "SHA256:aaa".into(), seen: "SHA256:bbb".into() };
        let ProviderError::Rejected(message) = ProviderError::from(error) else { panic!("not rejected") };
        assert!(message.contains("SHA256:aaa") && message.contains("SHA256:bbb"), "{message}");
        assert!(message.contains("an admin replaces the pinned fingerprint"), "{message}");
    }

    #[test]
    fn a_refused_key_says_which_key_to_install_for_whom() {
        let error = SshError::AuthRefused {
            user: "alice".into(),
            host: "login1".into(),
            fingerprint: "SHA256:kkk".into(),
            public_line: "ssh-ed25519 AAAA unit".into(),
        };
        let ProviderError::Denied { permission, message } = ProviderError::from(error) else { panic!() };
        assert_eq!(permission, "SSH login as alice");
        assert!(message.contains("~alice/.ssh/authorized_keys: ssh-ed25519 AAAA unit"), "{message}");
    }

    #[test]
    fn only_a_broken_connection_is_retried_at_once() {
        assert!(SshError::Transport("x".into()).is_transport());
        assert!(!SshError::Timeout("x".into()).is_transport());
        assert!(ProviderError::from(SshError::Timeout("x".into())).is_retryable());
        assert!(!ProviderError::from(SshError::Rejected("x".into())).is_retryable());
    }
}
