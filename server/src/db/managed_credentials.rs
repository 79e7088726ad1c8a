//! Managed credentials rows: one member's cluster account and sealed SSH key per managed identity.
//! Lists and descriptions read the public columns only (account, key fingerprint, dates); the
//! sealed columns are read by `find_sealed` alone, for the launch path. Every query is scoped by
//! identity (and by member where a member acts on their own), except the launch path's lookup by
//! id and `unfinished_runs`, which must see every run wherever it is (see their docs).

use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

/// A member of the identity's organization and their credentials, if they registered some.
#[derive(Debug, Clone, FromRow)]
pub struct MemberCredentialsRow {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub credentials_id: Option<i64>,
    pub user_name: Option<String>,
    pub public_key_fingerprint: Option<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(FromRow)]
pub struct SealedRow {
    pub id: i64,
    pub identity_id: i64,
    pub user_id: i64,
    pub user_name: String,
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

/// Who appears in an identity's list of credentials.
pub struct MemberFilter<'a> {
    /// Only this user (a member listing their own); `None`: every member.
    pub only_user: Option<i64>,
    /// Only members without credentials (`is:missing`) or only with (`is:added`); `None`: both.
    pub registered: Option<bool>,
    /// Lower-cased `%…%` pattern on email, display name or cluster account; empty: any.
    pub text_like: &'a str,
}

/// The organization's members (owners and participants of any of its workspaces) and anyone who
/// still has credentials on the identity, each with their credentials on it.
const MEMBERS: &str =
    "FROM users u LEFT JOIN managed_credentials c ON c.user_id = u.id AND c.identity_id = $1 \
     WHERE u.id IN (SELECT user_id FROM org_owners WHERE org_id = $2 \
                    UNION SELECT p.user_id FROM workspace_participants p \
                          JOIN workspaces w ON w.id = p.workspace_id WHERE w.org_id = $2 \
                    UNION SELECT user_id FROM managed_credentials WHERE identity_id = $1) \
       AND ($3 = 0 OR u.id = $3) \
       AND ($4 = 0 OR ($4 = 1 AND c.id IS NOT NULL) OR ($4 = 2 AND c.id IS NULL)) \
       AND ($5 = '' OR LOWER(u.email) LIKE $5 OR LOWER(u.display_name) LIKE $5 \
            OR LOWER(COALESCE(c.user_name, '')) LIKE $5)";

/// One page of `MEMBERS` by email, and how many match in all.
pub async fn list_members(
    pool: &AnyPool,
    identity_id: i64,
    org_id: i64,
    filter: MemberFilter<'_>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MemberCredentialsRow>, i64), sqlx::Error> {
    let registered = match filter.registered {
        None => 0,
        Some(true) => 1,
        Some(false) => 2,
    };
    let only_user = filter.only_user.unwrap_or(0);
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT u.id AS user_id, u.email, u.display_name, c.id AS credentials_id, c.user_name, \
         c.public_key_fingerprint, c.created_at, c.updated_at, c.last_used_at {MEMBERS} \
         ORDER BY u.email, u.id LIMIT $6 OFFSET $7"
    )))
    .bind(identity_id)
    .bind(org_id)
    .bind(only_user)
    .bind(registered)
    .bind(filter.text_like)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) {MEMBERS}")))
        .bind(identity_id)
        .bind(org_id)
        .bind(only_user)
        .bind(registered)
        .bind(filter.text_like)
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}

/// Inserts a row with a placeholder seal and returns its id: the id is part of the associated
/// data, so the key is sealed once it is known and written by `store_seal` in the same
/// transaction.
pub async fn insert_placeholder(
    tx: &mut Tx<'_>,
    identity_id: i64,
    user_id: i64,
    user_name: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO managed_credentials (identity_id, user_id, user_name, version, algorithm, key_id, \
         wrapped_key, ciphertext, created_at, updated_at) \
         VALUES ($1, $2, $3, 0, '', '', $4, $4, $5, $5) RETURNING id",
    )
    .bind(identity_id)
    .bind(user_id)
    .bind(user_name)
    .bind(Vec::<u8>::new())
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// Writes a newly sealed key and its fingerprint at `version`, scoped by identity and member.
#[allow(clippy::too_many_arguments)]
pub async fn store_seal(
    tx: &mut Tx<'_>,
    identity_id: i64,
    user_id: i64,
    id: i64,
    version: i64,
    fingerprint: Option<&str>,
    sealed: NewSealed<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE managed_credentials SET version = $1, public_key_fingerprint = $2, algorithm = $3, \
         key_id = $4, wrapped_key = $5, ciphertext = $6, updated_at = $7 \
         WHERE identity_id = $8 AND user_id = $9 AND id = $10",
    )
    .bind(version)
    .bind(fingerprint)
    .bind(sealed.algorithm)
    .bind(sealed.key_id)
    .bind(sealed.wrapped_key)
    .bind(sealed.ciphertext)
    .bind(now)
    .bind(identity_id)
    .bind(user_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_user_name(
    tx: &mut Tx<'_>,
    identity_id: i64,
    id: i64,
    user_name: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE managed_credentials SET user_name = $1, updated_at = $2 WHERE identity_id = $3 AND id = $4",
    )
    .bind(user_name)
    .bind(now)
    .bind(identity_id)
    .bind(id)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// (owner user id, version) of a row of the identity, locked for the transaction (a write that
/// changes nothing), so a launch pinning it and an update or delete happen one after the other.
pub async fn lock(tx: &mut Tx<'_>, identity_id: i64, id: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE managed_credentials SET version = version WHERE identity_id = $1 AND id = $2 \
         RETURNING user_id, version",
    )
    .bind(identity_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Deletes the row, returning (user id, cluster account); the caller checks for runs afterwards
/// in the same transaction (the delete holds the row lock).
pub async fn delete(
    tx: &mut Tx<'_>,
    identity_id: i64,
    id: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM managed_credentials WHERE identity_id = $1 AND id = $2 RETURNING user_id, user_name",
    )
    .bind(identity_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

const SEALED: &str = "SELECT id, identity_id, user_id, user_name, version, key_id, wrapped_key, ciphertext \
     FROM managed_credentials";

/// A member's sealed key on an identity, for the launch path only.
pub async fn find_sealed(
    pool: &AnyPool,
    identity_id: i64,
    user_id: i64,
) -> Result<Option<SealedRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{SEALED} WHERE identity_id = $1 AND user_id = $2")))
        .bind(identity_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// By id alone, for a run's cleanup: its target names the credentials it was launched with.
pub async fn find_sealed_by_id(pool: &AnyPool, id: i64) -> Result<Option<SealedRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{SEALED} WHERE id = $1"))).bind(id).fetch_optional(pool).await
}

pub async fn mark_used(pool: &AnyPool, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE managed_credentials SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Locks a row for a launch about to insert a run that uses it (in the launch's transaction).
pub async fn lock_by_id(tx: &mut Tx<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("UPDATE managed_credentials SET version = version WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(found.is_some())
}

/// A run that is not cleaned yet and whose target names managed credentials.
#[derive(Debug, Clone, FromRow)]
pub struct UnfinishedRun {
    pub id: String,
    pub run_name: String,
    pub workspace_id: i64,
    /// The run's target snapshot (JSON), which names the managed credentials.
    pub target: String,
}

/// Every run, in any workspace, that is not cleaned yet and whose target mentions managed
/// credentials or a managed identity: not scoped, because a run's cleanup needs its key wherever
/// the run is. The text match only narrows the rows; the caller parses each target.
pub async fn unfinished_runs(tx: &mut Tx<'_>) -> Result<Vec<UnfinishedRun>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, run_name, workspace_id, target FROM runs WHERE stage <> 'cleaned' \
         AND (target LIKE '%managedCredentialsId%' OR target LIKE '%managedIdentityId%') \
         ORDER BY created_at, id",
    )
    .fetch_all(&mut **tx)
    .await
}

/// The ids of an identity's credentials (for the runs check before deleting the identity).
pub async fn ids_of_identity(tx: &mut Tx<'_>, identity_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM managed_credentials WHERE identity_id = $1 ORDER BY id")
        .bind(identity_id)
        .fetch_all(&mut **tx)
        .await
}
