//! The savepoint that keeps one audited action's failure from undoing the rest of its batch
//! (`batch`), in as few round trips as the database allows.
//!
//! Why: on PostgreSQL every statement is a round trip to another process, and an action's own
//! savepoint statements were two of a secret creation's four. `BEGIN`, `SAVEPOINT`, `RELEASE`
//! and `ROLLBACK TO` take no parameters, so they travel together as one simple query: the batch
//! opens with `BEGIN; SAVEPOINT`, one action's `RELEASE` goes with the next one's `SAVEPOINT`, and
//! the last action's savepoint is left for `COMMIT`, which keeps what it holds (a failure before
//! the commit rolls the whole transaction back anyway). `ROLLBACK TO` leaves its savepoint in
//! place, so after a failed action the next one reuses it.

use crate::db::{Backend, Tx};
use sqlx::{AnyConnection, Connection};

/// What follows the action just run.
#[derive(Clone, Copy)]
pub enum Next {
    /// Another action of the same batch, under a savepoint of its own.
    Another,
    /// The batch's appends and its commit.
    Commit,
}

/// A batch's transaction on `connection`, with the first action's savepoint open. On SQLite it
/// takes the write lock at once (`BEGIN IMMEDIATE`, as `Db::begin` explains).
pub async fn begin(connection: &mut AnyConnection, backend: Backend) -> Result<Tx<'_>, sqlx::Error> {
    let begin = match backend {
        Backend::Postgres => "BEGIN; SAVEPOINT audited_action",
        Backend::Sqlite => "BEGIN IMMEDIATE; SAVEPOINT audited_action",
    };
    connection.begin_with(begin).await
}

/// Keeps what the action wrote and, if another follows, opens its savepoint.
pub async fn keep(tx: &mut Tx<'_>, next: Next) -> Result<(), sqlx::Error> {
    if let Next::Another = next {
        sqlx::raw_sql("RELEASE SAVEPOINT audited_action; SAVEPOINT audited_action")
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Takes back what a failed action wrote, keeping the rest of the batch; the savepoint stays
/// for the next action.
pub async fn undo(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("ROLLBACK TO SAVEPOINT audited_action").execute(&mut **tx).await.map(|_| ())
}
