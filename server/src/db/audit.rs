//! Audit rows. Appends happen inside the caller's transaction (so an action and its entry commit
//! or roll back together); there is no update or delete here, and the database refuses both.

use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub outcome: String,
    pub workspace_id: Option<i64>,
    pub target: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

const COLUMNS: &str =
    "seq, at, actor_id, actor, ip, action, outcome, workspace_id, target, detail, prev_hash, hash";

/// Takes the next position in the chain and the hash before it. The UPDATE locks the head row
/// until the transaction ends, so concurrent appenders queue here instead of forking the chain.
pub async fn claim_next(tx: &mut Tx<'_>) -> Result<(i64, String), sqlx::Error> {
    sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, last_hash")
        .fetch_one(&mut **tx)
        .await
}

/// Locks the chain's head for a batch of appends (`audit::batch`) and reads where it stands. The
/// no-op UPDATE takes the same row lock as `claim_next`, so single appends elsewhere (and another
/// replica's batches) wait until this batch commits.
pub async fn lock_head(tx: &mut Tx<'_>) -> Result<(i64, String), sqlx::Error> {
    sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, last_hash")
        .fetch_one(&mut **tx)
        .await
}

/// Appends already-chained rows (consecutive, from the locked head) and moves the head to the
/// last of them: one statement per `CHUNK` rows instead of one per entry. On PostgreSQL the last
/// chunk and the head's move are one statement (an INSERT inside WITH runs with the UPDATE), so a
/// batch's appends are one round trip; SQLite has no INSERT inside WITH, and its statements are
/// calls in this process anyway.
pub async fn insert_chained(tx: &mut Tx<'_>, rows: &[AuditRow]) -> Result<(), sqlx::Error> {
    const PER_ROW: usize = 12;
    const CHUNK: usize = 64;
    let Some(last) = rows.last() else { return Ok(()) };
    let postgres = tx.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME;
    let chunks = rows.chunks(CHUNK).count();
    for (i, chunk) in rows.chunks(CHUNK).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let params: Vec<String> = (1..=PER_ROW).map(|c| format!("${}", r * PER_ROW + c)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let insert = format!("INSERT INTO audit_log ({COLUMNS}) VALUES {}", values.join(", "));
        let moves_head = postgres && i + 1 == chunks;
        // Only numbered placeholders are interpolated; every value is bound.
        let sql = if moves_head {
            let (seq, hash) = (chunk.len() * PER_ROW + 1, chunk.len() * PER_ROW + 2);
            format!("WITH appended AS ({insert}) UPDATE audit_head SET seq = ${seq}, last_hash = ${hash} WHERE id = 1")
        } else {
            insert
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.seq)
                .bind(row.at)
                .bind(row.actor_id)
                .bind(&row.actor)
                .bind(&row.ip)
                .bind(&row.action)
                .bind(&row.outcome)
                .bind(row.workspace_id)
                .bind(&row.target)
                .bind(&row.detail)
                .bind(&row.prev_hash)
                .bind(&row.hash);
        }
        if moves_head {
            query = query.bind(last.seq).bind(&last.hash);
        }
        query.execute(&mut **tx).await?;
    }
    if !postgres {
        sqlx::query("UPDATE audit_head SET seq = $1, last_hash = $2 WHERE id = 1")
            .bind(last.seq)
            .bind(&last.hash)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Entries in chain order, `after_seq` exclusive, for verification in batches.
pub async fn chain_batch(pool: &AnyPool, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    sqlx::query_as(AssertSqlSafe(sql)).bind(after_seq).bind(limit).fetch_all(pool).await
}

/// Where the head says the chain ends, to catch entries removed from the end.
pub async fn head(pool: &AnyPool) -> Result<(i64, String), sqlx::Error> {
    sqlx::query_as("SELECT seq, last_hash FROM audit_head WHERE id = 1").fetch_one(pool).await
}
