//! The audit trail for the UI: read-only, newest first, narrowed by the filter's fields (each
//! optional, so the pages' query strings map onto them as they are).
// A server function's arguments are the fields of the form that posts to it, so some take more
// than clippy's seven. Allowed for the module: `#[server]` drops a function's own `#[allow]` from
// the browser-side function it generates.
#![allow(clippy::too_many_arguments)]

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
    who: Option<String>,
    what: Option<String>,
    outcome: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<AuditPage, AppError> {
    let filter = crate::model::AuditFilter { who, what, outcome, from, to };
    finish(ports()?.audit.workspace_audit(&actor()?, org_id, workspace_id, &filter, older_than).await)
}

#[server(prefix = "/sfn", endpoint = "instance_audit")]
pub async fn get_instance_audit(
    older_than: Option<i64>,
    who: Option<String>,
    what: Option<String>,
    outcome: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<AuditPage, AppError> {
    let filter = crate::model::AuditFilter { who, what, outcome, from, to };
    finish(ports()?.audit.instance_audit(&actor()?, &filter, older_than).await)
}
