use sqlx::AnyPool;

/// The check value recorded for a key id, if that key was ever registered.
pub async fn check_value(pool: &AnyPool, key_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT check_value FROM encryption_keys WHERE key_id = $1")
        .bind(key_id)
        .fetch_optional(pool)
        .await
}

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
        "INSERT INTO encryption_keys (key_id, check_value, created_at, active) VALUES ($1, $2, $3, 1)",
    )
    .bind(key_id)
    .bind(check_value)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn active_key_id(pool: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key_id FROM encryption_keys WHERE active = 1").fetch_optional(pool).await
}
