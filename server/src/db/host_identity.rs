//! Whether a workspace may act as the Strongroom host's own cloud identity, and the external id
//! Strongroom generated for it (table `workspace_host_identity`, migration 0008).

use sqlx::{AnyPool, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct HostIdentityRow {
    /// 0 or 1.
    pub allowed: i64,
    pub external_id: String,
}

pub async fn find(pool: &AnyPool, workspace_id: i64) -> Result<Option<HostIdentityRow>, sqlx::Error> {
    sqlx::query_as("SELECT allowed, external_id FROM workspace_host_identity WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_optional(pool)
        .await
}

/// Sets the grant. `new_external_id` is used only when the workspace has none yet: an id once
/// given out stays, so the trust policies that name it keep working.
pub async fn set(
    tx: &mut super::Tx<'_>,
    workspace_id: i64,
    allowed: bool,
    new_external_id: &str,
    by: i64,
    now: i64,
) -> Result<HostIdentityRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO workspace_host_identity (workspace_id, allowed, external_id, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id) DO UPDATE \
         SET allowed = $2, changed_by = $4, changed_at = $5 RETURNING allowed, external_id",
    )
    .bind(workspace_id)
    .bind(i64::from(allowed))
    .bind(new_external_id)
    .bind(by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}
