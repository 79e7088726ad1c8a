//! Compute environments and the cloud credentials they use: listing, writing, the settings check
//! (`settings_check`) and the live check against the real target (`live_check`), who may point an
//! environment at which endpoint (`endpoint_check`), and the Strongroom host's own cloud identity
//! lent to allowed workspaces (`host_identity`).

pub mod credential_versions;
pub mod credentials;
pub mod credentials_input;
#[cfg(test)]
mod credentials_tests;
pub mod endpoint_check;
pub mod environment_writes;
pub mod environments;
pub mod host_identity;
pub mod live_check;
pub mod settings_check;
