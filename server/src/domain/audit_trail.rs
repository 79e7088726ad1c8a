//! Reading the audit trail: a workspace's entries for those who manage its participants (owners
//! and admins), every entry for instance administrators.

use crate::db::audit_search::{self, AuditListRow};
use crate::domain::{internal, Core};
use crate::policy::{authorize, require_instance_admin};
use app::error::AppError;
use app::model::{AuditEntry, AuditFilter, AuditPage, Permission, SessionUser, AUDIT_PAGE_SIZE};
use app::ports::AuditPort;
use async_trait::async_trait;
use std::sync::Arc;

/// The audit trail's reading side: the `AuditPort`. (Writing is `Core::commit_audited`.)
pub struct AuditTrail {
    core: Arc<Core>,
}

fn entry(row: AuditListRow) -> AuditEntry {
    AuditEntry {
        seq: row.seq,
        at: row.at,
        actor: row.actor,
        ip: row.ip,
        action: row.action,
        outcome: row.outcome,
        workspace_id: row.workspace_id,
        workspace_name: row.workspace_name,
        target: row.target,
        detail: row.detail,
    }
}

impl AuditTrail {
    pub fn new(core: Arc<Core>) -> AuditTrail {
        AuditTrail { core }
    }

    async fn audit_page(
        &self,
        workspace_id: Option<i64>,
        filter: &AuditFilter,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError> {
        let filter = filter.clone().normalized();
        // One extra row tells whether an older page exists.
        let pool = &self.core.db.pool;
        let mut rows = audit_search::search(pool, workspace_id, &filter, older_than, AUDIT_PAGE_SIZE + 1)
            .await
            .map_err(internal)?;
        let more = rows.len() as i64 > AUDIT_PAGE_SIZE;
        rows.truncate(AUDIT_PAGE_SIZE as usize);
        let older_than = more.then(|| rows.last().map(|r| r.seq)).flatten();
        Ok(AuditPage { entries: rows.into_iter().map(entry).collect(), older_than })
    }
}

#[async_trait]
impl AuditPort for AuditTrail {
    async fn workspace_audit(
        &self,
        actor: &SessionUser,
        org_id: i64,
        workspace_id: i64,
        filter: &AuditFilter,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError> {
        let access =
            authorize(&self.core.db, actor, org_id, workspace_id, Permission::ManageParticipants).await?;
        self.audit_page(Some(access.workspace_id()), filter, older_than).await
    }

    async fn instance_audit(
        &self,
        actor: &SessionUser,
        filter: &AuditFilter,
        older_than: Option<i64>,
    ) -> Result<AuditPage, AppError> {
        require_instance_admin(&self.core.db, actor, "see the instance audit log").await?;
        self.audit_page(None, filter, older_than).await
    }
}
