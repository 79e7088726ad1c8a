//! Credentials rows, always scoped by workspace. Lists and descriptions read the public columns
//! only; the sealed columns are read by `find_sealed` alone, for the provisioning path.

use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct CredentialsRow {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub provider: String,
    /// JSON of the non-secret fields.
    pub public_keys: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(FromRow)]
pub struct SealedCredentialsRow {
    pub provider: String,
    pub version: i64,
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

pub struct NewSealed<'a> {
    pub algorithm: &'a str,
    pub key_id: &'a str,
    pub wrapped_key: &'a [u8],
    pub ciphertext: &'a [u8],
}

const PUBLIC: &str = "SELECT id, workspace_id, name, provider, public_keys, created_at, updated_at, \
     last_used_at FROM credentials";

/// Inserts a row with a placeholder seal and returns its id: the id is part of the associated
/// data, so the keys are sealed once it is known and written by `store_seal` in the same
/// transaction.
pub async fn insert_placeholder(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    name: &str,
    provider: &str,
    public_keys: &str,
    created_by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO credentials (workspace_id, name, provider, public_keys, version, algorithm, key_id, \
         wrapped_key, ciphertext, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, '', '', $5, $5, $6, $7, $7) RETURNING id",
    )
    .bind(workspace_id)
    .bind(name)
    .bind(provider)
    .bind(public_keys)
    .bind(Vec::<u8>::new())
    .bind(created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// Writes new sealed keys (and their public fields) at `version`, scoped by workspace.
pub async fn store_seal(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    id: i64,
    version: i64,
    public_keys: &str,
    sealed: NewSealed<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE credentials SET version = $1, public_keys = $2, algorithm = $3, key_id = $4, \
         wrapped_key = $5, ciphertext = $6, updated_at = $7 WHERE workspace_id = $8 AND id = $9",
    )
    .bind(version)
    .bind(public_keys)
    .bind(sealed.algorithm)
    .bind(sealed.key_id)
    .bind(sealed.wrapped_key)
    .bind(sealed.ciphertext)
    .bind(now)
    .bind(workspace_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Version, name and provider, scoped by workspace; the row is locked for the transaction (a
/// write that changes nothing), so a concurrent delete waits for it.
pub async fn lock(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    id: i64,
) -> Result<Option<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE credentials SET version = version WHERE workspace_id = $1 AND id = $2 \
         RETURNING version, name, provider",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn list(pool: &AnyPool, workspace_id: i64) -> Result<Vec<CredentialsRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{PUBLIC} WHERE workspace_id = $1 ORDER BY name, id")))
        .bind(workspace_id)
        .fetch_all(pool)
        .await
}

/// The version the credentials are at now, if they exist.
pub async fn current_version(pool: &AnyPool, workspace_id: i64, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM credentials WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find(pool: &AnyPool, workspace_id: i64, id: i64) -> Result<Option<CredentialsRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{PUBLIC} WHERE workspace_id = $1 AND id = $2")))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Deletes the row, returning its name; the caller checks for users afterwards in the same
/// transaction (the delete holds the row lock, so no environment can start using it meanwhile).
pub async fn delete(tx: &mut Tx<'_>, workspace_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM credentials WHERE workspace_id = $1 AND id = $2 RETURNING name")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// The sealed keys, for the provisioning path only.
pub async fn find_sealed(
    pool: &AnyPool,
    workspace_id: i64,
    id: i64,
) -> Result<Option<SealedCredentialsRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT provider, version, key_id, wrapped_key, ciphertext FROM credentials \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn mark_used(pool: &AnyPool, workspace_id: i64, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE credentials SET last_used_at = $1 WHERE workspace_id = $2 AND id = $3")
        .bind(now)
        .bind(workspace_id)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Keeps the current sealed keys of the row as a retired version, for the runs launched with
/// them (call before `store_seal` replaces them, in the same transaction).
pub async fn retire_current(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO credential_versions (credentials_id, workspace_id, version, algorithm, key_id, \
         wrapped_key, ciphertext, retired_at) \
         SELECT id, workspace_id, version, algorithm, key_id, wrapped_key, ciphertext, $3 FROM credentials \
         WHERE workspace_id = $1 AND id = $2 \
         ON CONFLICT (credentials_id, version) DO NOTHING",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// (credentials id, version) of every retired version kept in the workspace.
pub async fn retired_versions(tx: &mut Tx<'_>, workspace_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT credentials_id, version FROM credential_versions WHERE workspace_id = $1 \
         ORDER BY credentials_id, version",
    )
    .bind(workspace_id)
    .fetch_all(&mut **tx)
    .await
}

pub async fn delete_retired_version(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    id: i64,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM credential_versions WHERE workspace_id = $1 AND credentials_id = $2 AND version = $3",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// The sealed keys of a retired version, for the cleanup of a run launched with them.
pub async fn find_sealed_version(
    pool: &AnyPool,
    workspace_id: i64,
    id: i64,
    version: i64,
) -> Result<Option<SealedCredentialsRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.provider, v.version, v.key_id, v.wrapped_key, v.ciphertext FROM credential_versions v \
         JOIN credentials c ON c.id = v.credentials_id AND c.workspace_id = v.workspace_id \
         WHERE v.workspace_id = $1 AND v.credentials_id = $2 AND v.version = $3",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(version)
    .fetch_optional(pool)
    .await
}

/// A run of the workspace that is not cleaned yet: its copies may still exist.
#[derive(Debug, Clone, FromRow)]
pub struct UnfinishedRun {
    pub id: String,
    pub run_name: String,
    /// The run's target snapshot (JSON): which credentials, at which version.
    pub target: String,
}

pub async fn unfinished_runs(tx: &mut Tx<'_>, workspace_id: i64) -> Result<Vec<UnfinishedRun>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, run_name, target FROM runs WHERE workspace_id = $1 AND stage <> 'cleaned' \
         ORDER BY created_at, id",
    )
    .bind(workspace_id)
    .fetch_all(&mut **tx)
    .await
}

/// Provider and public fields, locking the row like `lock` (for a compute environment that is
/// about to use these credentials).
pub async fn lock_public(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    id: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE credentials SET version = version WHERE workspace_id = $1 AND id = $2 \
         RETURNING provider, public_keys",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}
