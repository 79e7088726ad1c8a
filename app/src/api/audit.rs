//! The audit trail for the UI: read-only, newest first.

#[cfg(feature = "ssr")]
use super::context::*;
use crate::error::AppError;
use crate::model::AuditPage;
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "workspace_audit")]
pub async fn get_workspace_audit(
    org_id: i64,
    workspace_id: i64,
    older_than: Option<i64>,
) -> Result<AuditPage, AppError> {
    finish(ports()?.audit.workspace_audit(&actor()?, org_id, workspace_id, older_than).await)
}

#[server(prefix = "/sfn", endpoint = "instance_audit")]
pub async fn get_instance_audit(older_than: Option<i64>) -> Result<AuditPage, AppError> {
    finish(ports()?.audit.instance_audit(&actor()?, older_than).await)
}
