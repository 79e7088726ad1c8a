//! The rows key rotation reads and re-wraps: every table holding a value sealed under the
//! key-encryption key (secrets, cloud credentials and managed credentials, see [`SealedTable`]),
//! counted by key, read in batches and updated one row at a time; and the switch of the active
//! key. The rotation itself (which rows, with which binding, in what order) is `crypto::rotation`.
//!
//! Re-wrapping touches only `key_id` and `wrapped_key` (never the ciphertext, `version` or
//! `updated_at`), and only when the row still holds the exact version and key that were read, so a
//! value replaced meanwhile by the running server is never overwritten with a stale data key.

use super::encryption_keys::KeyState;
use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

/// A table whose rows hold a value sealed under the key-encryption key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedTable {
    Secrets,
    Credentials,
    /// Replaced credentials kept for the runs launched with them (migration 0008).
    CredentialVersions,
    /// Members' SSH keys for managed identities (migration 0010).
    ManagedCredentials,
}

impl SealedTable {
    pub const ALL: [SealedTable; 4] = [
        SealedTable::Secrets,
        SealedTable::Credentials,
        SealedTable::CredentialVersions,
        SealedTable::ManagedCredentials,
    ];

    fn name(self) -> &'static str {
        match self {
            SealedTable::Secrets => "secrets",
            SealedTable::Credentials => "credentials",
            SealedTable::CredentialVersions => "credential_versions",
            SealedTable::ManagedCredentials => "managed_credentials",
        }
    }

    /// The columns that make up a row's binding, as `RotationRow` reads them.
    fn binding_columns(self) -> &'static str {
        match self {
            SealedTable::Secrets => {
                "id AS item_id, scope, workspace_id, user_id, CAST(NULL AS BIGINT) AS identity_id"
            }
            // Credentials are bound to their workspace under the scope `credentials`.
            SealedTable::Credentials => {
                "id AS item_id, 'credentials' AS scope, workspace_id, CAST(NULL AS BIGINT) AS user_id, \
                 CAST(NULL AS BIGINT) AS identity_id"
            }
            // A kept version stays bound to its credentials' id, not to its own row id.
            SealedTable::CredentialVersions => {
                "credentials_id AS item_id, 'credentials' AS scope, workspace_id, \
                 CAST(NULL AS BIGINT) AS user_id, CAST(NULL AS BIGINT) AS identity_id"
            }
            // Managed credentials are bound to their identity and their member.
            SealedTable::ManagedCredentials => {
                "id AS item_id, 'managed-credentials' AS scope, CAST(NULL AS BIGINT) AS workspace_id, \
                 user_id, identity_id"
            }
        }
    }
}

/// Every sealed table's `key_id` column, for the counts below.
const ALL_KEY_IDS: &str = "SELECT key_id FROM secrets UNION ALL SELECT key_id FROM credentials \
                           UNION ALL SELECT key_id FROM credential_versions \
                           UNION ALL SELECT key_id FROM managed_credentials";

/// The distinct key ids sealed rows are under, with their row counts (over every sealed table).
pub async fn rows_per_key(pool: &AnyPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT key_id, COUNT(*) FROM ({ALL_KEY_IDS}) AS sealed GROUP BY key_id ORDER BY key_id"
    )))
    .fetch_all(pool)
    .await
}

pub async fn count_all(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM ({ALL_KEY_IDS}) AS sealed")))
        .fetch_one(pool)
        .await
}

pub async fn count_under(pool: &AnyPool, key_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM ({ALL_KEY_IDS}) AS sealed WHERE key_id = $1"
    )))
    .bind(key_id)
    .fetch_one(pool)
    .await
}

/// What re-wrapping one row needs: its binding (scope, owner, id, version) and its sealed key.
#[derive(FromRow)]
pub struct RotationRow {
    /// The row's own id (for paging and the update).
    pub id: i64,
    /// The id bound into the associated data: the row's id, or for a kept credentials version
    /// the id of its credentials.
    pub item_id: i64,
    pub scope: String,
    pub workspace_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Managed credentials: the managed identity bound with the member.
    pub identity_id: Option<i64>,
    pub version: i64,
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The next rows of `table` (by id, after `after_id`) still sealed under `key_id`.
pub async fn next_batch(
    pool: &AnyPool,
    table: SealedTable,
    key_id: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<RotationRow>, sqlx::Error> {
    let sql = format!(
        "SELECT id, {}, version, key_id, wrapped_key, ciphertext FROM {} \
         WHERE key_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        table.binding_columns(),
        table.name()
    );
    sqlx::query_as(AssertSqlSafe(sql)).bind(key_id).bind(after_id).bind(limit).fetch_all(pool).await
}

/// Stores a re-wrapped data key, only if the row still holds `old_key_id` at `version`. Returns
/// false when the row changed (or went) meanwhile; the caller picks it up again later.
pub async fn store_rewrapped(
    tx: &mut Tx<'_>,
    table: SealedTable,
    id: i64,
    version: i64,
    old_key_id: &str,
    new_key_id: &str,
    wrapped_key: &[u8],
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE {} SET key_id = $1, wrapped_key = $2 WHERE id = $3 AND key_id = $4 AND version = $5",
        table.name()
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(new_key_id)
        .bind(wrapped_key)
        .bind(id)
        .bind(old_key_id)
        .bind(version)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes `new_key_id` the active key and retires every other one, in one transaction, provided
/// no sealed row (secret, credentials or managed credentials) is under any other key. Returns the
/// number of such rows (0 = done).
///
/// It reads, then writes: on SQLite the transaction takes the write lock first (`Db::begin`), or
/// a server writing meanwhile would have the first write refused at once ("database is locked").
pub async fn activate(db: &super::Db, new_key_id: &str) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let remaining: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM ({ALL_KEY_IDS}) AS sealed WHERE key_id <> $1"
    )))
    .bind(new_key_id)
    .fetch_one(&mut *tx)
    .await?;
    if remaining > 0 {
        tx.rollback().await?;
        return Ok(remaining);
    }
    sqlx::query("UPDATE encryption_keys SET active = $1 WHERE key_id <> $2")
        .bind(KeyState::Retired.column())
        .bind(new_key_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE encryption_keys SET active = $1 WHERE key_id = $2")
        .bind(KeyState::Active.column())
        .bind(new_key_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(0)
}
