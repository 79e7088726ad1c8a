//! Per-run copy rows: the durable state machine behind provisioning and cleanup
//! (planned → creating → created → deleting → deleted, or failed with the last error).
//!
//! A worker *claims* a due row with a lease (`claimed_until`) in a statement of its own, and the
//! claim commits before any call leaves the process: a crash mid-call leaves the row claimed
//! until the lease ends, then any worker takes it again. Every provider call is idempotent, so
//! doing a step twice is safe. On PostgreSQL, replicas claim with `FOR UPDATE SKIP LOCKED` and
//! never wait on each other's rows; SQLite has one writer at a time, so the plain statement is
//! already exclusive.

use super::decode::{named, required_target};
use super::{Backend, Db, Tx};
use crate::providers::RunTarget;
use app::model::{CopyState, SecretSource};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, FromRow, Row};

pub async fn insert_planned(
    tx: &mut Tx<'_>,
    run_id: &str,
    name: &str,
    source: SecretSource,
    source_secret_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO run_copies (run_id, name, source_scope, source_secret_id, state, updated_at) \
         VALUES ($1, $2, $3, $4, 'planned', $5)",
    )
    .bind(run_id)
    .bind(name)
    .bind(source.as_str())
    .bind(source_secret_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// A claimed copy. `state` is what to do: `Creating` or `Deleting`.
#[derive(Debug, Clone)]
pub struct CopyClaim {
    pub id: i64,
    pub run_id: String,
    pub workspace_id: i64,
    pub launched_by: i64,
    pub target: RunTarget,
    pub name: String,
    /// Whose secret the copy holds (`run_copies.source_scope`).
    pub source: SecretSource,
    pub source_secret_id: i64,
    pub state: CopyState,
    pub attempts: i64,
}

/// Claims the copy whose step is most overdue: a create for a run still provisioning, or a
/// delete. A planned copy becomes `creating` in the same statement, before any call is made.
pub async fn claim_due(db: &Db, now: i64, lease_until: i64) -> Result<Option<CopyClaim>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE OF c SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE run_copies SET claimed_until = $2, updated_at = $1, \
           state = CASE WHEN state = 'planned' THEN 'creating' ELSE state END \
         WHERE id = (SELECT c.id FROM run_copies c JOIN runs r ON r.id = c.run_id \
           WHERE c.next_attempt_at <= $1 AND c.claimed_until < $1 \
             AND ((c.state IN ('planned', 'creating') AND r.stage = 'provisioning') OR c.state = 'deleting') \
           ORDER BY c.next_attempt_at, c.id LIMIT 1 {lock}) \
         RETURNING id, run_id, name, source_scope, source_secret_id, state, attempts"
    );
    let claimed =
        sqlx::query(AssertSqlSafe(sql)).bind(now).bind(lease_until).fetch_optional(&db.pool).await?;
    let Some(copy) = claimed else {
        return Ok(None);
    };
    let run_id: String = copy.try_get("run_id")?;
    let run = sqlx::query("SELECT workspace_id, launched_by, target FROM runs WHERE id = $1")
        .bind(&run_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(Some(CopyClaim {
        id: copy.try_get("id")?,
        run_id,
        workspace_id: run.try_get("workspace_id")?,
        launched_by: run.try_get("launched_by")?,
        target: required_target(&run, "target")?,
        name: copy.try_get("name")?,
        source: named(&copy, "source_scope")?,
        source_secret_id: copy.try_get("source_secret_id")?,
        state: named(&copy, "state")?,
        attempts: copy.try_get("attempts")?,
    }))
}

/// The copy exists. If the run ended meanwhile (the row is now `deleting`), the state stays so
/// the delete still happens; only the claim is released.
pub async fn created(pool: &AnyPool, id: i64, reference: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE run_copies SET state = CASE WHEN state = 'creating' THEN 'created' ELSE state END, \
         reference = $2, last_error = NULL, claimed_until = 0, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(reference)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn deleted(pool: &AnyPool, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE run_copies SET state = 'deleted', last_error = NULL, claimed_until = 0, updated_at = $2 \
         WHERE id = $1 AND state = 'deleting'",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The step failed in a way that may pass: keep the state, note the error, try at `next_at`.
pub async fn retry_later(
    pool: &AnyPool,
    id: i64,
    error: &str,
    next_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE run_copies SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
         claimed_until = 0, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(next_at)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The step cannot succeed (or gave up): `failed`, with the reason — but only if the copy is
/// still in the state the step started from. Returns false when it moved on meanwhile (a create
/// whose run ended is now `deleting`: the delete must still be tried).
pub async fn failed(
    pool: &AnyPool,
    id: i64,
    from_state: CopyState,
    error: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE run_copies SET state = 'failed', attempts = attempts + 1, last_error = $2, \
         claimed_until = 0, updated_at = $3 WHERE id = $1 AND state = $4",
    )
    .bind(id)
    .bind(error)
    .bind(now)
    .bind(from_state.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct CopyRow {
    pub id: i64,
    pub name: String,
    /// Whose secret the copy holds (`run_copies.source_scope`).
    pub source: SecretSource,
    pub state: CopyState,
    pub reference: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

impl<'r> FromRow<'r, AnyRow> for CopyRow {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(CopyRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            source: named(row, "source_scope")?,
            state: named(row, "state")?,
            reference: row.try_get("reference")?,
            attempts: row.try_get("attempts")?,
            last_error: row.try_get("last_error")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

pub async fn list_for_run(pool: &AnyPool, run_id: &str) -> Result<Vec<CopyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, source_scope, state, reference, attempts, last_error, updated_at FROM run_copies \
         WHERE run_id = $1 ORDER BY name",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await
}

/// The reconciler found a copy of an ended run still in the target, or retries a failed
/// cleanup: the copy goes back to `deleting`, and its run back to `cleaning`.
pub async fn reopen_cleanup(
    pool: &AnyPool,
    run_id: &str,
    name: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE run_copies SET state = 'deleting', attempts = 0, next_attempt_at = $3, updated_at = $3 \
         WHERE run_id = $1 AND ($2 IS NULL OR name = $2) AND state IN ('failed', 'deleted', 'created')",
    )
    .bind(run_id)
    .bind(name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE runs SET stage = 'cleaning', attempts = 0, next_attempt_at = $2, updated_at = $2 \
         WHERE id = $1 AND stage IN ('cleaned', 'cleanup_failed')",
    )
    .bind(run_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The reconciler deleted these copies itself: their rows say so, unless a worker still holds them.
/// Only rows of runs of `workspace_id` (the target's own workspace) change: a listing from one
/// workspace's target cannot mark another workspace's copies deleted.
pub async fn mark_deleted_in_workspace(
    pool: &AnyPool,
    workspace_id: i64,
    run_id: &str,
    names: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    for name in names.iter().filter(|n| !n.is_empty()) {
        sqlx::query(
            "UPDATE run_copies SET state = 'deleted', last_error = NULL, updated_at = $3 \
             WHERE run_id = $1 AND name = $2 AND state IN ('created', 'deleting', 'failed') \
             AND claimed_until < $3 AND run_id IN (SELECT id FROM runs WHERE workspace_id = $4)",
        )
        .bind(run_id)
        .bind(name)
        .bind(now)
        .bind(workspace_id)
        .execute(pool)
        .await?;
    }
    Ok(())
}
