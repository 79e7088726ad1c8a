//! The audit trail, read-only, for the audit pages.

use crate::error::AppError;
use crate::model::{AuditPage, SessionUser};
use async_trait::async_trait;

/// A workspace's entries for its owners and admins, every entry for the instance administrator.
/// `older_than` pages back from a sequence number.
#[async_trait]
pub trait AuditPort: Send + Sync + 'static {
    async fn workspace_audit(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError>;
    async fn instance_audit(
        &self,
        actor: &SessionUser,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError>;
}
