//! The Nextflow head job Strongroom submits for a run (HPC over SSH, AWS Batch, Google Batch): its
//! scheduler's or Batch service's job id, last known state and reason, and when it is next due a
//! submit or a status poll. These are columns of `runs` (migration 0009); `runs.rs` keeps the run's
//! lifecycle, this file the head job's.
//!
//! `head_job_poll_at` is both the due time and the lease: a claim moves it past the lease, so
//! two servers never poll or submit the same job at once, and a server that dies mid-step
//! leaves it due again when the lease ends. A launched run with the column set and no job id is
//! a submit that has not been recorded yet: the follower submits again (submitting is idempotent
//! by the job's name), so a crash between the scheduler's answer and this row's update never
//! starts a second job.

use super::decode;
use super::{Backend, Db};
use crate::providers::RunTarget;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, FromRow, Row};

/// A run's head job as stored (read with the run, `runs::RunRow::head_job`): the scheduler's
/// job id, its last known state and reason, when it was submitted and first seen running. All
/// `None` for a run without one.
#[derive(Debug, Clone, Default)]
pub struct HeadJobColumns {
    pub id: Option<String>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub submitted_at: Option<i64>,
    pub started_at: Option<i64>,
}

/// The stored state for a head job Strongroom cancelled itself (at the end of its run), beside
/// the scheduler's states of `providers::HeadJobState::as_str`.
pub const CANCELLED: &str = "CANCELLED";

/// Whether a stored head job state means the job is over (nothing left to poll or cancel).
pub fn is_over(state: Option<&str>) -> bool {
    matches!(state, Some("SUCCEEDED" | "FAILED" | "GONE" | CANCELLED))
}

/// A run whose head job is due a submit (`job_id` is `None`) or a status poll.
#[derive(Debug, Clone)]
pub struct HeadJobClaim {
    pub id: String,
    pub workspace_id: i64,
    pub target: RunTarget,
    pub job_id: Option<String>,
    /// Whether the run has ended (it is being cleaned): only its submit is left to settle.
    pub ended: bool,
    /// Failed submits or polls in a row, for the backoff.
    pub attempts: i64,
}

impl<'r> FromRow<'r, AnyRow> for HeadJobClaim {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(HeadJobClaim {
            id: row.try_get("id")?,
            workspace_id: row.try_get("workspace_id")?,
            target: decode::required_target(row, "target")?,
            job_id: row.try_get("head_job_id")?,
            ended: row.try_get::<String, _>("stage")? != "launched",
            attempts: row.try_get("attempts")?,
        })
    }
}

/// Claims the run whose head job is most overdue, until `lease_until`: a launched run's poll or
/// submit, or an ended run's unrecorded submit (submitted again to learn the job's id, which its
/// cleanup waits for so that it can cancel the job). Ended runs are not polled: their cleanup
/// stops the job (`run_steps`).
pub async fn claim_due(db: &Db, now: i64, lease_until: i64) -> Result<Option<HeadJobClaim>, sqlx::Error> {
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE runs SET head_job_poll_at = $2 WHERE id = (SELECT r.id FROM runs r \
         WHERE r.head_job_poll_at <= $1 \
           AND (r.stage = 'launched' OR (r.stage = 'cleaning' AND r.head_job_id IS NULL)) \
         ORDER BY r.head_job_poll_at LIMIT 1 {lock}) \
         RETURNING id, workspace_id, target, head_job_id, stage, attempts"
    );
    sqlx::query_as(AssertSqlSafe(sql)).bind(now).bind(lease_until).fetch_optional(&db.pool).await
}

/// The scheduler accepted the job: its id, `QUEUED`, and the first poll at `next_poll`. Recorded
/// whatever the run's stage, so an end that came meanwhile still cancels the job.
pub async fn record_submitted(
    pool: &AnyPool,
    id: &str,
    job_id: &str,
    now: i64,
    next_poll: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE runs SET head_job_id = $2, head_job_state = 'QUEUED', head_job_reason = NULL, \
         head_job_submitted_at = COALESCE(head_job_submitted_at, $3), head_job_poll_at = $4, \
         attempts = CASE WHEN stage = 'launched' THEN 0 ELSE attempts END, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(job_id)
    .bind(now)
    .bind(next_poll)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The job's state as the scheduler told it. `RUNNING` sets the time it started once; a job
/// that is over is not polled again (`next_poll` is `None`).
pub async fn record_state(
    pool: &AnyPool,
    id: &str,
    state: &str,
    reason: Option<&str>,
    now: i64,
    next_poll: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE runs SET head_job_state = $2, head_job_reason = $3, \
         head_job_started_at = CASE WHEN $2 = 'RUNNING' THEN COALESCE(head_job_started_at, $4) \
           ELSE head_job_started_at END, \
         head_job_poll_at = $5, attempts = CASE WHEN stage = 'launched' THEN 0 ELSE attempts END, \
         updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(reason)
    .bind(now)
    .bind(next_poll)
    .execute(pool)
    .await
    .map(|_| ())
}

/// A submit or poll of a launched run failed in a way that may pass: try again at `next_at`.
pub async fn retry_later(pool: &AnyPool, id: &str, next_at: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE runs SET attempts = attempts + 1, head_job_poll_at = $2, updated_at = $3 \
         WHERE id = $1 AND stage = 'launched'",
    )
    .bind(id)
    .bind(next_at)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Nothing more to submit or poll (the submit failed for good, or the target has no head jobs).
pub async fn stop(pool: &AnyPool, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE runs SET head_job_poll_at = NULL WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_ended_states_are_over() {
        for over in ["SUCCEEDED", "FAILED", "GONE", super::CANCELLED] {
            assert!(super::is_over(Some(over)), "{over}");
        }
        for going in [None, Some("QUEUED"), Some("RUNNING")] {
            assert!(!super::is_over(going), "{going:?}");
        }
    }
}
