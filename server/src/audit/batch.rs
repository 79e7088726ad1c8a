//! Audited writes committed in groups, so concurrent writers do not each wait for a disk flush
//! of their own behind the chain's head.
//!
//! Why: every audited action appends to one hash chain, and the head row that orders the chain
//! stays locked from the append until the commit, so one transaction per action means one flush
//! per action, one after the other (and on SQLite, one writer at a time anyway). Here a writer
//! task takes the actions queued meanwhile (up to `MAX_BATCH`), runs each inside one shared
//! transaction under a savepoint of its own, then takes the head, chains the entries of those
//! that succeeded, and commits them all with one flush. With no load a batch is one action: no
//! added wait. On PostgreSQL two writers share the queue (`writers`).
//!
//! Guarantees (those of `append`): an action and its entry commit together or not at all (a
//! failed action rolls back to its savepoint and leaves no entry; a failed append or commit fails
//! every action of the batch); the chain stays one line with no gaps, since the batch holds the
//! head row's lock from its append to its commit, so single appends, the other writer and other
//! replicas' batches wait for it; an action is answered only once its commit is durable.

use super::{chained_row, client_ip, savepoints, with_client_ip, Event};
use crate::clock::now_ms;
use crate::db::{audit, Backend, Db, Tx};
use crate::error::internal;
use app::error::AppError;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// The most actions one transaction carries: enough to share a flush among every client of a
/// busy server, few enough that the last of them is not kept waiting long.
const MAX_BATCH: usize = 64;
/// Actions waiting beyond this make their callers wait to queue (back-pressure, bounded memory).
const QUEUE: usize = 1024;

type Action = Box<dyn for<'c, 't> FnOnce(&'c mut Tx<'t>) -> BoxFuture<'c, Result<Event, AppError>> + Send>;
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
        F: for<'c, 't> FnOnce(&'c mut Tx<'t>) -> BoxFuture<'c, Result<(T, Event), AppError>> + Send + 'static,
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
            let (jobs, writers) = (Arc::new(tokio::sync::Mutex::new(jobs)), writers(self.db.backend));
            for _ in 0..writers {
                tokio::spawn(writer(self.db.clone(), jobs.clone(), writers));
            }
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
    F: for<'c, 't> FnOnce(&'c mut Tx<'t>) -> BoxFuture<'c, Result<Event, AppError>> + Send + 'static,
{
    Box::new(action)
}

/// Batches in flight at once. On PostgreSQL each statement of a batch is a round trip to another
/// process, one after the other on one connection, and a batch takes the chain's head only after
/// its actions (`run_batch`): two writers run two batches' actions side by side, and only their
/// appends and commits take turns. On SQLite a transaction holds the database's one write lock
/// from its start (`BEGIN IMMEDIATE`), so a second writer would only wait.
fn writers(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => BATCH_WRITERS_POSTGRES,
    }
}

/// Writer tasks on PostgreSQL; each has a connection of its own (`Db::batches`).
pub const BATCH_WRITERS_POSTGRES: usize = 2;

/// A writer task: one batch at a time. The writers take turns at the queue, each taking its
/// share of what is waiting (at least one action), so that a burst is split between them rather
/// than left whole to the first.
///
/// Each writer keeps its connection from one batch to the next: handed back to the pool, a
/// connection returns there through a task of its own, and the next batch, asking at once,
/// waited for that task under load. After a failed batch it is closed, in case the connection is
/// what failed, and the next batch takes another.
async fn writer(db: Db, jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>, writers: usize) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut kept: Option<PoolConnection<Any>> = None;
    loop {
        let received = {
            let mut jobs = jobs.lock().await;
            // With nothing waiting yet, whatever arrives together up to a writer's part of
            // `MAX_BATCH` (all of it with one writer, as before).
            let waiting = if jobs.is_empty() { MAX_BATCH } else { jobs.len() };
            let share = waiting.div_ceil(writers).clamp(1, MAX_BATCH);
            jobs.recv_many(&mut batch, share).await
        };
        if received == 0 {
            return;
        }
        let jobs = std::mem::take(&mut batch);
        let connection = match kept.take() {
            Some(connection) => Ok(connection),
            None => db.batches.acquire().await,
        };
        match connection {
            Ok(mut connection) => {
                if commit_batch(&mut connection, db.backend, jobs).await {
                    kept = Some(connection);
                } else {
                    connection.close_on_drop();
                }
            }
            Err(error) => fail_all(jobs.into_iter().map(|job| job.finish), &error),
        }
    }
}

/// Runs and commits one batch on `connection`, then tells each action's caller its outcome;
/// `false` when the batch failed as a whole.
async fn commit_batch(connection: &mut AnyConnection, backend: Backend, jobs: Vec<Job>) -> bool {
    let mut jobs = jobs.into_iter();
    // Actions that succeeded, answered only after the commit.
    let mut done: Vec<Finish> = Vec::new();
    match run_batch(connection, backend, &mut jobs, &mut done).await {
        Ok(()) => {
            done.into_iter().for_each(|finish| finish(Ok(())));
            true
        }
        Err(error) => {
            fail_all(done.into_iter().chain(jobs.map(|job| job.finish)), &error);
            false
        }
    }
}

fn fail_all(finishes: impl Iterator<Item = Finish>, error: &sqlx::Error) {
    let error = internal(format!("an audited batch failed: {error}"));
    for finish in finishes {
        finish(Err(error.clone()));
    }
}

/// Runs the jobs in one transaction; on `Err` nothing of the batch was committed, and the jobs
/// left in `jobs` and `done` are the caller's to fail.
///
/// Each action runs under a savepoint of its own. The statements that end one action's savepoint
/// and open the next travel in one round trip (`savepoints`), and the last action's is left open
/// for the commit to keep: on PostgreSQL each statement is a round trip to another process, and
/// these were two of an action's four.
async fn run_batch(
    connection: &mut AnyConnection,
    backend: Backend,
    jobs: &mut std::vec::IntoIter<Job>,
    done: &mut Vec<Finish>,
) -> Result<(), sqlx::Error> {
    let mut tx = savepoints::begin(connection, backend).await?;
    let mut events = Vec::with_capacity(jobs.len());
    while let Some(job) = jobs.next() {
        let next = if jobs.len() > 0 { savepoints::Next::Another } else { savepoints::Next::Commit };
        let ran = AssertUnwindSafe(with_client_ip(job.ip, (job.action)(&mut tx))).catch_unwind().await;
        match ran {
            Ok(Ok(event)) => {
                savepoints::keep(&mut tx, next).await?;
                events.push(event);
                done.push(job.finish);
            }
            Ok(Err(error)) => {
                savepoints::undo(&mut tx).await?;
                (job.finish)(Err(error));
            }
            Err(_panic) => {
                savepoints::undo(&mut tx).await?;
                (job.finish)(Err(internal("an audited action panicked")));
            }
        }
    }
    if !events.is_empty() {
        // The head last, after the actions, and held to the commit as by every append: a batch
        // holding it waits on no row another transaction holds, so no two wait on each other.
        let (mut seq, mut last_hash) = audit::lock_head(&mut tx).await?;
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            seq += 1;
            let entry = chained_row(seq, last_hash, event, now_ms());
            last_hash = entry.hash.clone();
            entries.push(entry);
        }
        audit::insert_chained(&mut tx, &entries).await?;
    }
    tx.commit().await
}
