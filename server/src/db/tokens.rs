//! Access tokens. Personal tokens have `run_id` NULL; a run token (made for one run's launch
//! command) names its run, and every personal-token query here leaves run tokens out.

use super::users::UserRow;
use super::Tx;
use sqlx::{AnyPool, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(FromRow)]
pub struct TokenOwnerRow {
    pub token_id: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The run a run token is bound to (`None` for a personal token).
    pub run_id: Option<String>,
    /// That run's stage, if the run still exists.
    pub run_stage: Option<String>,
    #[sqlx(flatten)]
    pub user: UserRow,
}

pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub expires_at: Option<i64>,
    /// Set for a run token: the token is bound to this run.
    pub run_id: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx<'_>, token: NewToken<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO access_tokens (user_id, name, token_hash, created_at, expires_at, run_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(token.user_id)
    .bind(token.name)
    .bind(token.token_hash)
    .bind(now)
    .bind(token.expires_at)
    .bind(token.run_id)
    .fetch_one(&mut **tx)
    .await
}

pub async fn list_for_user(pool: &AnyPool, user_id: i64) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, expires_at FROM access_tokens \
         WHERE user_id = $1 AND run_id IS NULL ORDER BY name",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

pub async fn find_for_user(pool: &AnyPool, user_id: i64, id: i64) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, expires_at FROM access_tokens \
         WHERE user_id = $1 AND id = $2 AND run_id IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn delete_for_user(tx: &mut Tx<'_>, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM access_tokens WHERE user_id = $1 AND id = $2 AND run_id IS NULL")
        .bind(user_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_hash(pool: &AnyPool, token_hash: &str) -> Result<Option<TokenOwnerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.id AS token_id, t.expires_at, t.last_used_at, t.run_id, r.stage AS run_stage, \
         u.id, u.email, u.display_name, u.is_instance_admin, u.disabled, u.created_at \
         FROM access_tokens t JOIN users u ON u.id = t.user_id \
         LEFT JOIN runs r ON r.id = t.run_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

pub async fn touch(pool: &AnyPool, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE access_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Deletes every token of a run, when the run is cleaned: a head job submitted again after a
/// crash holds a token of its own beside the first one's. Personal tokens are never deleted here.
pub async fn delete_for_run(pool: &AnyPool, user_id: i64, run_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM access_tokens WHERE user_id = $1 AND run_id = $2")
        .bind(user_id)
        .bind(run_id)
        .execute(pool)
        .await
        .map(|_| ())
}
