//! This install's id: the `managed-by` tag on every copy it makes, so the reconciler can tell its
//! own copies from anyone else's in a shared cloud account. Made once, at first start.

use sqlx::AnyPool;

pub async fn id_or_create(pool: &AnyPool, now: i64) -> Result<String, sqlx::Error> {
    let fresh = format!("strongroom-{}", uuid::Uuid::new_v4().simple());
    // Two servers starting at once on a new database: the first insert wins, both read it back.
    sqlx::query(
        "INSERT INTO installation (singleton, id, created_at) VALUES (1, $1, $2) \
         ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(&fresh)
    .bind(now)
    .execute(pool)
    .await?;
    sqlx::query_scalar("SELECT id FROM installation WHERE singleton = 1").fetch_one(pool).await
}
