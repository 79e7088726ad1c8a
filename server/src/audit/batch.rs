//! Audited writes committed in groups, so concurrent writers do not each wait for a disk flush
//! of their own behind the chain's head.
//!
//! Why: every audited action appends to one hash chain, and the head row that orders the chain
//! stays locked from the append until the commit, so one transaction per action means one flush
//! per action, one after the other (and on SQLite, one writer at a time anyway). Here a single
//! writer task takes the actions queued meanwhile (up to `MAX_BATCH`), runs each inside one shared
//! transaction under a savepoint of its own, chains the entries of those that succeeded, and
//! commits them all with one flush. With no load a batch is one action: no added wait.
//!
//! Guarantees (those of `append`): an action and its entry commit together or not at all (a
//! failed action rolls back to its savepoint and leaves no entry; a failed append or commit fails
//! every action of the batch); the chain stays one line with no gaps, since the batch holds the
//! head row's lock, so single appends elsewhere and other replicas' batches wait for it; an
//! action is answered only once its commit is durable.

use super::{chained_row, client_ip, with_client_ip, Event};
use crate::clock::now_ms;
use crate::db::{audit, Db, Tx};
use crate::error::internal;
use app::error::AppError;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// The most actions one transaction carries: enough to share a flush among every client of a
/// busy server, few enough that the last of them is not kept waiting long.
const MAX_BATCH: usize = 64;
/// Actions waiting beyond this make their callers wait to queue (back-pressure, bounded memory).
const QUEUE: usize = 1024;

type Action = Box<dyn for<'c> FnOnce(&'c mut Tx<'static>) -> BoxFuture<'c, Result<Event, AppError>> + Send>;
type Finish = Box<dyn FnOnce(Result<(), AppError>) + Send>;

struct Job {
    action: Action,
    /// The client address of the request that queued the action: the writer task is not that
    /// request's task, so the entry would otherwise say "local".
    ip: String,
    /// Told the outcome once it is final: the action's own error, or the commit's.
    finish: Finish,
}

/// The queue of audited actions and its writer task (started by the first action).
pub struct AuditedWrites {
    db: Db,
    queue: OnceLock<mpsc::Sender<Job>>,
}

impl AuditedWrites {
    pub fn new(db: Db) -> AuditedWrites {
        AuditedWrites { db, queue: OnceLock::new() }
    }

    /// Runs `action` in a transaction shared with other queued actions and commits it together
    /// with the audit entry for the event it returns; answers its value once committed.
    ///
    /// The action must write through the transaction it is given and nothing else: the batch
    /// holds the chain's head (and on SQLite the database's write lock), so an audited write on
    /// another connection from inside it would wait for itself.
    pub async fn write<T, F>(&self, action: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx<'static>) -> BoxFuture<'c, Result<(T, Event), AppError>>
            + Send
            + 'static,
    {
        let value = Arc::new(Mutex::new(None));
        let slot = value.clone();
        let (answer, answered) = oneshot::channel();
        let job = Job {
            action: erase(move |tx| {
                Box::pin(async move {
                    let (result, event) = action(tx).await?;
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    Ok(event)
                })
            }),
            ip: client_ip(),
            finish: Box::new(move |outcome: Result<(), AppError>| {
                let outcome = outcome.map(|()| value.lock().unwrap_or_else(|e| e.into_inner()).take());
                let _ = answer.send(outcome);
            }),
        };
        let queue = self.queue.get_or_init(|| {
            let (queue, jobs) = mpsc::channel(QUEUE);
            tokio::spawn(writer(self.db.clone(), jobs));
            queue
        });
        queue.send(job).await.map_err(|_| internal("the audited-write queue is closed"))?;
        match answered.await {
            Ok(Ok(Some(value))) => Ok(value),
            Ok(Ok(None)) => Err(internal("an audited action was committed without its result")),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(internal("the audited-write queue stopped before answering")),
        }
    }
}

/// Boxes an action; passing the closure through this bound is what makes it generic over the
/// transaction's borrow.
fn erase<F>(action: F) -> Action
where
    F: for<'c> FnOnce(&'c mut Tx<'static>) -> BoxFuture<'c, Result<Event, AppError>> + Send + 'static,
{
    Box::new(action)
}

/// The writer task: one batch at a time, each of whatever was queued meanwhile.
async fn writer(db: Db, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit_batch(&db, std::mem::take(&mut batch)).await;
    }
}

async fn commit_batch(db: &Db, jobs: Vec<Job>) {
    let mut jobs = jobs.into_iter();
    // Actions that succeeded, answered only after the commit.
    let mut done: Vec<Finish> = Vec::new();
    let outcome = run_batch(db, &mut jobs, &mut done).await;
    match outcome {
        Ok(()) => done.into_iter().for_each(|finish| finish(Ok(()))),
        Err(error) => {
            let error = internal(format!("an audited batch failed: {error}"));
            for finish in done.into_iter().chain(jobs.map(|job| job.finish)) {
                finish(Err(error.clone()));
            }
        }
    }
}

/// Runs the jobs in one transaction; on `Err` nothing of the batch was committed, and the jobs
/// left in `jobs` and `done` are the caller's to fail.
async fn run_batch(
    db: &Db,
    jobs: &mut std::vec::IntoIter<Job>,
    done: &mut Vec<Finish>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let (mut seq, mut last_hash) = audit::lock_head(&mut tx).await?;
    let mut entries = Vec::with_capacity(jobs.len());
    for job in jobs.by_ref() {
        sqlx::query("SAVEPOINT audited_action").execute(&mut *tx).await?;
        let ran = AssertUnwindSafe(with_client_ip(job.ip, (job.action)(&mut tx))).catch_unwind().await;
        match ran {
            Ok(Ok(event)) => {
                sqlx::query("RELEASE SAVEPOINT audited_action").execute(&mut *tx).await?;
                seq += 1;
                let entry = chained_row(seq, last_hash, event, now_ms());
                last_hash = entry.hash.clone();
                entries.push(entry);
                done.push(job.finish);
            }
            Ok(Err(error)) => {
                undo_action(&mut tx).await?;
                (job.finish)(Err(error));
            }
            Err(_panic) => {
                undo_action(&mut tx).await?;
                (job.finish)(Err(internal("an audited action panicked")));
            }
        }
    }
    audit::insert_chained(&mut tx, &entries).await?;
    tx.commit().await
}

/// Takes back what a failed action wrote, keeping the rest of the batch.
async fn undo_action(tx: &mut Tx<'static>) -> Result<(), sqlx::Error> {
    sqlx::query("ROLLBACK TO SAVEPOINT audited_action").execute(&mut **tx).await?;
    sqlx::query("RELEASE SAVEPOINT audited_action").execute(&mut **tx).await.map(|_| ())
}
