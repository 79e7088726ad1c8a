use sqlx::AnyPool;

/// The states of `encryption_keys.active` (it was 0/1 before key rotation; no migration needed).
/// The key new values are sealed under, and the one a server must start with:
pub const ACTIVE: i64 = 1;
/// Registered by `strongroom keys rotate`, not yet active; a server may start with it.
pub const ROTATION_TARGET: i64 = 2;
/// A former active key; a server refuses to start with it.
pub const RETIRED: i64 = 0;

pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM encryption_keys").fetch_one(pool).await
}

pub async fn register_active(
    pool: &AnyPool,
    key_id: &str,
    check_value: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO encryption_keys (key_id, check_value, created_at, active) VALUES ($1, $2, $3, $4)",
    )
    .bind(key_id)
    .bind(check_value)
    .bind(now)
    .bind(ACTIVE)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn active_key_id(pool: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key_id FROM encryption_keys WHERE active = $1")
        .bind(ACTIVE)
        .fetch_optional(pool)
        .await
}
