//! Compute environments and the cloud credentials they use. One service, `Compute`, implements
//! four ports, each in the file that holds its rules:
//!
//! - `ComputeEnvsPort` in `environments` (listing and writing; the write rules are in
//!   `environment_rules`, the settings check per platform in `settings_check` (HPC over SSH in
//!   `ssh_settings`), who may point an
//!   environment at which endpoint in `endpoint_check`);
//! - `ComputeCheckPort` in `live_check` (the check against the real target);
//! - `CredentialsPort` in `credentials` (with `credentials_input`, `ssh_key_input` and
//!   `credential_versions`);
//! - `CloudIdentityPort` in `cloud_identity_view` (what a cloud admin must trust for a managed
//!   environment; the sessions runs act as are built in `cloud_identity`);
//! - `HostIdentityPort` in `host_identity` (the Strongroom host's own cloud identity lent to
//!   allowed workspaces).

pub mod cloud_identity;
pub mod cloud_identity_view;
pub mod cloud_settings;
pub mod credential_versions;
pub mod credentials;
pub mod credentials_input;
#[cfg(test)]
mod credentials_tests;
pub mod endpoint_check;
pub mod environment_rules;
pub mod environments;
pub mod host_identity;
pub mod live_check;
pub mod settings_check;
pub mod ssh_key_input;
pub mod ssh_settings;

use crate::domain::Core;
use std::sync::Arc;

/// Compute environments, credentials and the host identity: the `ComputeEnvsPort`,
/// `ComputeCheckPort`, `CredentialsPort` and `HostIdentityPort`.
pub struct Compute {
    core: Arc<Core>,
}

impl Compute {
    pub fn new(core: Arc<Core>) -> Compute {
        Compute { core }
    }
}
