//! Lending the Strongroom host's own cloud identity to a workspace, for
//! `/api/workspaces/{id}/host-identity` (`HostIdentityPort`, implemented in the server's
//! `domain/compute/host_identity.rs`).

use crate::error::AppError;
use crate::model::SessionUser;
use async_trait::async_trait;

#[async_trait]
pub trait HostIdentityPort: Send + Sync + 'static {
    /// Allows or withdraws the host identity for a workspace: instance administrators only.
    async fn set_host_identity(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        allowed: bool,
    ) -> Result<HostIdentityGrant, AppError>;
}

/// A workspace's host-identity grant as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIdentityGrant {
    pub allowed: bool,
    /// What the role's trust policy must require as `sts:ExternalId`.
    pub external_id: String,
}
