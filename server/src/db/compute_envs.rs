//! Compute environment rows. `config` is JSON of the platform's non-secret settings; credentials
//! are never stored here, only the id of a credentials row.

use super::Tx;
use crate::providers::RunTarget;
use app::model::{ComputeConfig, Platform};
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct ComputeEnvRow {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    /// Strongroom's kind: `aws-batch`, `google-batch` or `hpc`.
    pub platform: String,
    pub config: String,
    pub credentials_id: Option<i64>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ComputeEnvRow {
    /// The environment's target as it is now (what a launch snapshots into `runs.target`).
    pub fn target(&self) -> Result<RunTarget, String> {
        let config: ComputeConfig = serde_json::from_str(&self.config)
            .map_err(|e| format!("compute environment {} has unreadable settings: {e}", self.id))?;
        let platform = Platform::from_stored(&self.platform, config.scheduler).ok_or_else(|| {
            format!("compute environment {} has an unknown platform '{}'", self.id, self.platform)
        })?;
        Ok(RunTarget {
            platform,
            config,
            credentials_id: self.credentials_id,
            credentials_version: None,
            managed_credentials_id: None,
            cloud_session: None,
        })
    }
}

pub struct NewComputeEnv<'a> {
    pub workspace_id: i64,
    pub name: &'a str,
    pub platform: &'a str,
    pub config: &'a str,
    pub credentials_id: Option<i64>,
}

/// Inserts an environment in `AVAILABLE` status; part of the caller's transaction.
pub async fn insert(tx: &mut Tx<'_>, env: NewComputeEnv<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO compute_envs (workspace_id, name, platform, config, credentials_id, status, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'AVAILABLE', $6, $6) RETURNING id",
    )
    .bind(env.workspace_id)
    .bind(env.name)
    .bind(env.platform)
    .bind(env.config)
    .bind(env.credentials_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

const COLUMNS: &str = "SELECT id, workspace_id, name, platform, config, credentials_id, status, \
     created_at, updated_at FROM compute_envs";

/// The workspace's environments, by name.
pub async fn list(pool: &AnyPool, workspace_id: i64) -> Result<Vec<ComputeEnvRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{COLUMNS} WHERE workspace_id = $1 ORDER BY name, id")))
        .bind(workspace_id)
        .fetch_all(pool)
        .await
}

/// One environment, scoped by workspace: an id from another workspace is not found.
pub async fn find(pool: &AnyPool, workspace_id: i64, id: i64) -> Result<Option<ComputeEnvRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{COLUMNS} WHERE workspace_id = $1 AND id = $2")))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Every environment of every workspace, for the reconciler.
pub async fn list_all(pool: &AnyPool) -> Result<Vec<ComputeEnvRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{COLUMNS} ORDER BY id"))).fetch_all(pool).await
}

/// Renames an environment and replaces its settings and credentials, scoped by workspace.
pub async fn update(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    id: i64,
    env: NewComputeEnv<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE compute_envs SET name = $1, config = $2, credentials_id = $3, updated_at = $4 \
         WHERE workspace_id = $5 AND id = $6",
    )
    .bind(env.name)
    .bind(env.config)
    .bind(env.credentials_id)
    .bind(now)
    .bind(workspace_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes an environment, returning its name (`None` when there was no such environment).
pub async fn delete(tx: &mut Tx<'_>, workspace_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM compute_envs WHERE workspace_id = $1 AND id = $2 RETURNING name")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// The environments (id, name) that use a set of credentials.
pub async fn using_credentials(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    credentials_id: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name FROM compute_envs WHERE workspace_id = $1 AND credentials_id = $2 ORDER BY name",
    )
    .bind(workspace_id)
    .bind(credentials_id)
    .fetch_all(&mut **tx)
    .await
}

/// Replaces an environment's settings with `config` only if they are still `seen` (a Check
/// pinning the host key it saw must not undo an admin's edit made meanwhile). Whether it did.
pub async fn replace_config_if_unchanged(
    pool: &AnyPool,
    workspace_id: i64,
    id: i64,
    seen: &str,
    config: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE compute_envs SET config = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4 \
         AND config = $5",
    )
    .bind(config)
    .bind(now)
    .bind(workspace_id)
    .bind(id)
    .bind(seen)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the outcome of a check: `AVAILABLE` or `INVALID`.
pub async fn set_status(
    pool: &AnyPool,
    workspace_id: i64,
    id: i64,
    status: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE compute_envs SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
        .bind(status)
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}
