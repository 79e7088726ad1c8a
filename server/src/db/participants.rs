use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct ParticipantRow {
    pub id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

const SELECT: &str = "SELECT p.id, p.user_id, u.email, u.display_name, p.role \
     FROM workspace_participants p JOIN users u ON u.id = p.user_id";

pub async fn insert(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    user_id: i64,
    role: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO workspace_participants (workspace_id, user_id, role, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

pub async fn list(
    pool: &AnyPool,
    workspace_id: i64,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ParticipantRow>, i64), sqlx::Error> {
    // `search` matches email or display name, case-insensitively, on both backends.
    let pattern = search.map(|s| format!("%{}%", s.to_lowercase().replace(['%', '_'], "")));
    let filter = "p.workspace_id = $1 AND ($2 = '' OR LOWER(u.email) LIKE $2 \
                  OR LOWER(u.display_name) LIKE $2)";
    let pattern = pattern.unwrap_or_default();
    let rows =
        sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE {filter} ORDER BY u.email LIMIT $3 OFFSET $4")))
            .bind(workspace_id)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
    let total = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM workspace_participants p JOIN users u ON u.id = p.user_id \
         WHERE {filter}"
    )))
    .bind(workspace_id)
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

/// One participant, scoped by workspace.
pub async fn find(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    participant_id: i64,
) -> Result<Option<ParticipantRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE p.workspace_id = $1 AND p.id = $2")))
        .bind(workspace_id)
        .bind(participant_id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn count_owners(tx: &mut Tx<'_>, workspace_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspace_participants WHERE workspace_id = $1 AND role = 'owner'",
    )
    .bind(workspace_id)
    .fetch_one(&mut **tx)
    .await
}

pub async fn set_role(
    tx: &mut Tx<'_>,
    workspace_id: i64,
    participant_id: i64,
    role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE workspace_participants SET role = $1 WHERE workspace_id = $2 AND id = $3")
        .bind(role)
        .bind(workspace_id)
        .bind(participant_id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

pub async fn delete(tx: &mut Tx<'_>, workspace_id: i64, participant_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM workspace_participants WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(participant_id)
        .execute(&mut **tx)
        .await
        .map(|_| ())
}
