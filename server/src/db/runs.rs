//! Run rows. A run's `stage` (`RunStage`) moves provisioning → launched → cleaning → cleaned (or
//! cleanup_failed); `end` is the only way out of the first two, and it moves every copy towards
//! deletion in the same transaction, so no ended run keeps a copy it does not mean to delete.
//! Rows decode into the model's types (`decode.rs`): an unknown stored stage or status, or a
//! target that does not parse, is an error of the query, never a guess.

use super::decode::{self, named};
use super::head_jobs::HeadJobColumns;
use super::{Backend, Db, Tx};
use crate::providers::RunTarget;
use app::model::{RunStage, RunStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, FromRow, Row};

#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: String,
    pub workspace_id: i64,
    pub compute_env_id: Option<i64>,
    pub launched_by: i64,
    pub launched_by_email: String,
    pub compute_env_name: Option<String>,
    pub run_name: String,
    pub pipeline: String,
    pub revision: Option<String>,
    /// `None` for a run Nextflow reported on its own: it has no copies, so no target.
    pub target: Option<RunTarget>,
    pub status: RunStatus,
    pub stage: RunStage,
    pub launch_env: Option<String>,
    pub message: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub launched_at: Option<i64>,
    pub started_at: Option<i64>,
    pub heartbeat_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Seqera's launch fields for the head job (`LaunchFields` as JSON), when the launch gave any.
    pub launch_fields: Option<String>,
    /// The head job Strongroom submitted (HPC over SSH): `db::head_jobs`.
    pub head_job: HeadJobColumns,
}

impl<'r> FromRow<'r, AnyRow> for RunRow {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(RunRow {
            id: row.try_get("id")?,
            workspace_id: row.try_get("workspace_id")?,
            compute_env_id: row.try_get("compute_env_id")?,
            launched_by: row.try_get("launched_by")?,
            launched_by_email: row.try_get("launched_by_email")?,
            compute_env_name: row.try_get("compute_env_name")?,
            run_name: row.try_get("run_name")?,
            pipeline: row.try_get("pipeline")?,
            revision: row.try_get("revision")?,
            target: decode::target(row, "target")?,
            status: named(row, "status")?,
            stage: named(row, "stage")?,
            launch_env: row.try_get("launch_env")?,
            message: row.try_get("message")?,
            attempts: row.try_get("attempts")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            launched_at: row.try_get("launched_at")?,
            started_at: row.try_get("started_at")?,
            heartbeat_at: row.try_get("heartbeat_at")?,
            ended_at: row.try_get("ended_at")?,
            launch_fields: row.try_get("launch_fields")?,
            head_job: HeadJobColumns {
                id: row.try_get("head_job_id")?,
                state: row.try_get("head_job_state")?,
                reason: row.try_get("head_job_reason")?,
                submitted_at: row.try_get("head_job_submitted_at")?,
                started_at: row.try_get("head_job_started_at")?,
            },
        })
    }
}

const COLUMNS: &str = "SELECT r.id, r.workspace_id, r.compute_env_id, r.launched_by, \
     u.email AS launched_by_email, ce.name AS compute_env_name, r.run_name, r.pipeline, r.revision, \
     r.target, r.status, r.stage, r.launch_env, r.message, r.attempts, r.created_at, r.updated_at, \
     r.launched_at, r.started_at, r.heartbeat_at, r.ended_at, r.head_job_id, r.head_job_state, \
     r.head_job_reason, r.head_job_submitted_at, r.head_job_started_at, r.launch_fields \
     FROM runs r JOIN users u ON u.id = r.launched_by \
     LEFT JOIN compute_envs ce ON ce.id = r.compute_env_id";

pub struct NewRun<'a> {
    pub id: &'a str,
    pub workspace_id: i64,
    pub compute_env_id: Option<i64>,
    pub launched_by: i64,
    pub run_name: &'a str,
    pub pipeline: &'a str,
    pub revision: Option<&'a str>,
    /// `None` for a run Nextflow reported on its own (stored as `""`).
    pub target: Option<&'a RunTarget>,
    /// `Provisioning` for a launch; `Cleaned` for a run Nextflow reported on its own (no copies).
    pub stage: RunStage,
    pub session_id: Option<&'a str>,
    /// The launch's head-job fields (`LaunchFields` as JSON), when it gave any.
    pub launch_fields: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx<'_>, run: NewRun<'_>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, compute_env_id, launched_by, run_name, pipeline, revision, \
         target, status, stage, session_id, created_at, updated_at, launch_fields) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'SUBMITTED', $9, $10, $11, $11, $12)",
    )
    .bind(run.id)
    .bind(run.workspace_id)
    .bind(run.compute_env_id)
    .bind(run.launched_by)
    .bind(run.run_name)
    .bind(run.pipeline)
    .bind(run.revision)
    .bind(run.target.map(RunTarget::to_json).unwrap_or_default())
    .bind(run.stage.as_str())
    .bind(run.session_id)
    .bind(now)
    .bind(run.launch_fields)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// A run of `workspace_id`, for a caller authorized in that workspace.
pub async fn find_in_workspace(
    pool: &AnyPool,
    workspace_id: i64,
    id: &str,
) -> Result<Option<RunRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{COLUMNS} WHERE r.id = $1 AND r.workspace_id = $2")))
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(pool)
        .await
}

/// The compute environment of `user_id`'s latest launch in the workspace, for the launch form's
/// default (`runs_by_workspace` narrows the scan to the workspace).
pub async fn last_compute_env(
    pool: &AnyPool,
    workspace_id: i64,
    user_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT compute_env_id FROM runs WHERE workspace_id = $1 AND launched_by = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(workspace_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(env,)| env))
}

/// A run by id alone, the one unscoped find. Safe for its two kinds of caller, which have no
/// workspace to scope by before they read the run: the trace API, which names only the run and
/// then authorizes the caller against the run's own workspace before answering anything; and
/// the server's own jobs, which act on a run id they claimed or created themselves.
pub async fn find(pool: &AnyPool, id: &str) -> Result<Option<RunRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{COLUMNS} WHERE r.id = $1"))).bind(id).fetch_optional(pool).await
}

pub async fn list(
    pool: &AnyPool,
    workspace_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RunRow>, i64), sqlx::Error> {
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "{COLUMNS} WHERE r.workspace_id = $1 ORDER BY r.created_at DESC, r.id LIMIT $2 OFFSET $3"
    )))
    .bind(workspace_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}

/// Nextflow's `begin`: the run is running (unless it already ended).
pub async fn mark_started(pool: &AnyPool, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE runs SET status = 'RUNNING', started_at = COALESCE(started_at, $2), heartbeat_at = $2, \
         updated_at = $2 WHERE id = $1 AND ended_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch_heartbeat(pool: &AnyPool, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE runs SET heartbeat_at = $2, updated_at = $2 WHERE id = $1 AND ended_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Ends a run that has not ended yet, and sends every copy towards deletion: a planned copy was
/// never sent anywhere and is done at once; any other (a create may have half-happened) is
/// deleted by the worker. Returns false when the run had already ended (the first end wins).
pub async fn end(
    tx: &mut Tx<'_>,
    id: &str,
    status: RunStatus,
    message: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE runs SET status = $2, message = COALESCE($3, message), ended_at = $4, updated_at = $4, \
         stage = CASE WHEN stage IN ('provisioning', 'launched') THEN 'cleaning' ELSE stage END, \
         attempts = 0, next_attempt_at = $4 WHERE id = $1 AND ended_at IS NULL",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(message)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE run_copies SET state = CASE WHEN state = 'planned' THEN 'deleted' ELSE 'deleting' END, \
         attempts = 0, next_attempt_at = $2, updated_at = $2 \
         WHERE run_id = $1 AND state IN ('planned', 'creating', 'created', 'failed')",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// A run whose copies are settled and whose next run-level step is due: provisioning with no
/// copy still planned or creating, or cleaning with no copy still deleting. The claim is a lease.
#[derive(Debug, Clone)]
pub struct RunClaim {
    pub id: String,
    pub workspace_id: i64,
    pub launched_by: i64,
    pub target: RunTarget,
    pub stage: RunStage,
    pub attempts: i64,
    /// The head job's scheduler id and last known state, for the cleanup to stop it.
    pub head_job_id: Option<String>,
    pub head_job_state: Option<String>,
}

impl<'r> FromRow<'r, AnyRow> for RunClaim {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(RunClaim {
            id: row.try_get("id")?,
            workspace_id: row.try_get("workspace_id")?,
            launched_by: row.try_get("launched_by")?,
            target: decode::required_target(row, "target")?,
            stage: named(row, "stage")?,
            attempts: row.try_get("attempts")?,
            head_job_id: row.try_get("head_job_id")?,
            head_job_state: row.try_get("head_job_state")?,
        })
    }
}

/// The due step's claim. A cleaning run waits while its head job submit is unsettled (due or
/// in flight in `head_job_poll_at`, no job id yet: `db::head_jobs`), so its cleanup learns the
/// job id to cancel.
pub async fn claim_due_step(db: &Db, now: i64, lease_until: i64) -> Result<Option<RunClaim>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE runs SET claimed_until = $2 WHERE id = (SELECT r.id FROM runs r \
         WHERE r.next_attempt_at <= $1 AND r.claimed_until < $1 AND ( \
           (r.stage = 'provisioning' AND NOT EXISTS (SELECT 1 FROM run_copies c WHERE c.run_id = r.id \
              AND c.state IN ('planned', 'creating'))) \
           OR (r.stage = 'cleaning' AND NOT EXISTS (SELECT 1 FROM run_copies c WHERE c.run_id = r.id \
              AND c.state = 'deleting') \
              AND NOT (r.head_job_id IS NULL AND r.head_job_poll_at IS NOT NULL))) \
         ORDER BY r.next_attempt_at LIMIT 1 {lock}) \
         RETURNING id, workspace_id, launched_by, target, stage, attempts, head_job_id, head_job_state"
    );
    sqlx::query_as(AssertSqlSafe(sql)).bind(now).bind(lease_until).fetch_optional(&db.pool).await
}

/// Provisioning is done: the launch environment is ready. For a target that starts the head
/// job itself, `submit_lease_until` marks its submit due in the same write (leased until then to
/// the caller, who submits at once): a crash before the job id is recorded leaves the submit to
/// the follower (`db::head_jobs`), never forgotten.
pub async fn mark_launched(
    pool: &AnyPool,
    id: &str,
    launch_env: &str,
    now: i64,
    submit_lease_until: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE runs SET stage = 'launched', launch_env = $2, launched_at = $3, updated_at = $3, \
         claimed_until = 0, attempts = 0, head_job_poll_at = $4 WHERE id = $1 AND stage = 'provisioning'",
    )
    .bind(id)
    .bind(launch_env)
    .bind(now)
    .bind(submit_lease_until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cleanup is over: `Cleaned`, or `CleanupFailed` with the reason.
pub async fn mark_cleanup_over(
    pool: &AnyPool,
    id: &str,
    stage: RunStage,
    message: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE runs SET stage = $2, message = COALESCE($3, message), updated_at = $4, claimed_until = 0 \
         WHERE id = $1 AND stage IN ('cleaning', 'cleanup_failed')",
    )
    .bind(id)
    .bind(stage.as_str())
    .bind(message)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// A run-level step failed in a way that may pass: try again at `next_at`.
pub async fn retry_step_later(pool: &AnyPool, id: &str, next_at: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE runs SET attempts = attempts + 1, next_attempt_at = $2, claimed_until = 0, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(next_at)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Nothing failed, but the run's next step is not due before `at` (a head job still finishing).
pub async fn step_again_at(pool: &AnyPool, id: &str, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE runs SET next_attempt_at = $2, claimed_until = 0 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Runs still going whose last sign of life (heartbeat, start, the head job starting, or
/// launch) is older than `silent_since`, or that were created before `started_before` (the
/// maximum run duration). A head job the scheduler still holds in its queue is not silence:
/// Nextflow cannot report before it starts. Returns each run's id and creation time.
pub async fn overdue(
    pool: &AnyPool,
    silent_since: i64,
    started_before: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, created_at FROM runs WHERE ended_at IS NULL AND stage = 'launched' \
         AND ((COALESCE(heartbeat_at, started_at, head_job_started_at, launched_at, created_at) < $1 \
               AND COALESCE(head_job_state, '') <> 'QUEUED') \
              OR created_at < $2)",
    )
    .bind(silent_since)
    .bind(started_before)
    .fetch_all(pool)
    .await
}

/// Runs in `cleanup_failed`, for the reconciler to try again.
pub async fn with_failed_cleanup(pool: &AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM runs WHERE stage = 'cleanup_failed'").fetch_all(pool).await
}

/// The distinct copy targets of runs, for the reconciler to list: every target any run used.
/// A target that does not decode comes back as its error, so one bad row does not stop a pass
/// over all the others (the reconciler reports it).
pub async fn distinct_targets(pool: &AnyPool) -> Result<Vec<(i64, Result<RunTarget, String>)>, sqlx::Error> {
    let stored: Vec<(i64, String)> =
        sqlx::query_as("SELECT DISTINCT workspace_id, target FROM runs WHERE target <> ''")
            .fetch_all(pool)
            .await?;
    Ok(stored.into_iter().map(|(workspace_id, json)| (workspace_id, RunTarget::from_json(&json))).collect())
}

/// When a run ended: `Some(Some(at))` ended, `Some(None)` still going, `None` no such run. By id
/// alone: the reconciler asks it of a copy found in a target, to decide whether the copy may go
/// from that target; what it then marks deleted is scoped (`run_copies::mark_deleted_in_workspace`).
pub async fn ended_at(pool: &AnyPool, id: &str) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar("SELECT ended_at FROM runs WHERE id = $1").bind(id).fetch_optional(pool).await
}

/// Gives up a claim without changing anything else.
pub async fn release(pool: &AnyPool, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE runs SET claimed_until = 0 WHERE id = $1").bind(id).execute(pool).await.map(|_| ())
}
