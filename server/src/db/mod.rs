//! The database: one pool whose backend (SQLite or PostgreSQL) is chosen at run time from the URL.
//! Queries are written once, in the SQL both backends share (`$1` parameters, `RETURNING`,
//! 64-bit integers, text and booleans); each file here owns one aggregate, and every query that
//! reads workspace data is scoped by the workspace (or user) it belongs to, except where its
//! doc says why not (`runs::find`). Stored names of states decode into the model's enums
//! (`decode.rs`) and are written back through them. Where a query is assembled with `format!`,
//! only constants of the same file are interpolated (`AssertSqlSafe`): user input is always
//! bound as a parameter.

pub mod audit;
pub mod audit_search;
pub mod compute_envs;
pub mod credentials;
mod decode;
pub mod encryption_keys;
pub mod head_jobs;
pub mod host_identity;
pub mod installation;
pub mod key_rotation;
pub mod managed_credentials;
pub mod managed_identities;
pub mod orgs;
pub mod participants;
pub mod run_copies;
pub mod runs;
pub mod secret_overrides;
pub mod secrets;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod workspaces;

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::time::Duration;

pub type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// How long a pooled connection may sit idle and still be handed out without a ping first.
const TRUST_IDLE_CONNECTION_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    /// Where audited batches run: connections of their own on PostgreSQL, the pool on SQLite.
    pub batches: AnyPool,
    pub backend: Backend,
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Connects, prepares the backend and applies pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://");
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_parent_dir(url)?;
        }
        let pool =
            pool_options(if backend == Backend::Sqlite { 8 } else { 16 }).connect(url).await.with_context(
                || format!("could not connect to the database at {}", crate::config::redact_url(url)),
            )?;
        // The audited-write batches' own connections (`audit::batch`, one per writer), so that
        // a writer never waits behind the requests' reads for one: under load every connection
        // of the pool is busy with them. SQLite has one writer at a time anyway, so its batches
        // share the pool.
        let batches = match backend {
            Backend::Sqlite => pool.clone(),
            Backend::Postgres => {
                pool_options(crate::audit::BATCH_WRITERS_POSTGRES as u32).connect_lazy(url)?
            }
        };
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while one writer commits; it is a property of the file.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        let migrator = match backend {
            Backend::Sqlite => &MIGRATE_SQLITE,
            Backend::Postgres => &MIGRATE_POSTGRES,
        };
        migrator.run(&pool).await.context("could not apply database migrations")?;
        Ok(Db { pool, batches, backend })
    }

    /// A transaction for a write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// waiting its turn behind other writers: a transaction that read first and wrote later would
    /// be refused at its first write ("database is locked", no wait) whenever another connection
    /// wrote meanwhile, and concurrent requests would fail with 500 (the crash test's concurrent
    /// writers showed it).
    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// SQLite only (a no-op on PostgreSQL): copies what the write-ahead log holds into the
    /// database file now, beside readers and writers (`PASSIVE`: it waits for no one). The
    /// server does this twice a second (`startup::wal_checkpoints`) so that the copy, and the
    /// flush of the database file after it, are not done by whichever commit crossed SQLite's
    /// 1,000-page mark, which then answered late.
    pub async fn checkpoint_wal(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await?;
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }
}

/// The pool settings both pools share.
fn pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // By default sqlx pings every connection it hands out: a round trip before each query
        // or transaction, on PostgreSQL a wake-up of another process. A connection used within
        // the last second is handed out as it is (a query on one that died meanwhile fails like
        // any query on a lost connection); one idle longer, as after a database restart, is
        // still checked first.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > TRUST_IDLE_CONNECTION_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

fn ensure_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
    }
    Ok(())
}

/// True when the error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}
