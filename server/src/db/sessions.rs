use super::users::UserRow;
use super::Tx;
use sqlx::{AnyPool, FromRow};

#[derive(Debug, FromRow)]
pub struct SessionRow {
    pub session_id: i64,
    pub session_created_at: i64,
    pub last_seen_at: i64,
    #[sqlx(flatten)]
    pub user: UserRow,
}

pub async fn insert(
    pool: &AnyPool,
    token_hash: &str,
    user_id: i64,
    ip: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, ip) \
         VALUES ($1, $2, $3, $3, $4) RETURNING id",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(ip)
    .fetch_one(pool)
    .await
}

pub async fn find_by_token_hash(pool: &AnyPool, token_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id AS session_id, s.created_at AS session_created_at, s.last_seen_at, \
         u.id, u.email, u.display_name, u.is_instance_admin, u.disabled, u.created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

pub async fn touch(pool: &AnyPool, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

pub async fn delete(pool: &AnyPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(pool).await.map(|_| ())
}

pub async fn delete_for_user(tx: &mut Tx<'_>, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut **tx).await.map(|_| ())
}

/// Removes the user's other sessions (after a password change), keeping the current one.
pub async fn delete_others_for_user(
    tx: &mut Tx<'_>,
    user_id: i64,
    keep: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(-1))
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

pub async fn delete_expired(
    pool: &AnyPool,
    idle_cutoff: i64,
    absolute_cutoff: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_cutoff)
        .bind(absolute_cutoff)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}
