//! The audit trail, read-only, for the audit pages.

use crate::error::AppError;
use crate::model::{AuditFilter, AuditPage, SessionUser};
use async_trait::async_trait;

/// A workspace's entries for its owners and admins, every entry for the instance administrator.
/// `older_than` pages back from a sequence number; `filter` narrows the entries.
#[async_trait]
pub trait AuditPort: Send + Sync + 'static {
    async fn workspace_audit(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        filter: &AuditFilter,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError>;
    async fn instance_audit(
        &self,
        actor: &SessionUser,
        filter: &AuditFilter,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError>;
}
