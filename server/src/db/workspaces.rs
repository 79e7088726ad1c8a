use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct WorkspaceRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub full_name: String,
    pub description: String,
    pub visibility: String,
    /// The role of the user the query was made for, if they participate.
    pub role: Option<String>,
}

pub struct NewWorkspace<'a> {
    pub org_id: i64,
    pub name: &'a str,
    pub full_name: &'a str,
    pub description: &'a str,
}

pub async fn insert(tx: &mut Tx<'_>, ws: NewWorkspace<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO workspaces (org_id, name, name_key, full_name, description, visibility, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'PRIVATE', $6, $6) RETURNING id",
    )
    .bind(ws.org_id)
    .bind(ws.name)
    .bind(ws.name.to_lowercase())
    .bind(ws.full_name)
    .bind(ws.description)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

const WITH_ROLE: &str = "SELECT w.id, w.org_id, w.name, w.full_name, w.description, w.visibility, \
     p.role FROM workspaces w \
     LEFT JOIN workspace_participants p ON p.workspace_id = w.id AND p.user_id = $1";

/// The organization's workspaces the user takes part in.
pub async fn list_for_user(
    pool: &AnyPool,
    user_id: i64,
    org_id: i64,
) -> Result<Vec<WorkspaceRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "{WITH_ROLE} WHERE w.org_id = $2 AND p.role IS NOT NULL ORDER BY w.name_key"
    )))
    .bind(user_id)
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// The workspace with the user's role in it, scoped by organization: a workspace id paired with
/// the wrong organization is not found.
pub async fn find_with_role(
    pool: &AnyPool,
    user_id: i64,
    org_id: i64,
    workspace_id: i64,
) -> Result<Option<WorkspaceRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{WITH_ROLE} WHERE w.org_id = $2 AND w.id = $3")))
        .bind(user_id)
        .bind(org_id)
        .bind(workspace_id)
        .fetch_optional(pool)
        .await
}

/// Takes the workspace's write lock for the rest of the transaction. On PostgreSQL this locks the
/// row; on SQLite the first write takes the database lock. Either way, two concurrent changes to
/// one workspace's owners are serialized, so "the last owner" is always counted correctly.
pub async fn lock(tx: &mut Tx<'_>, workspace_id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE workspaces SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(workspace_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The workspace with the user's role, by workspace id alone (the pipeline-secrets API names no
/// organization).
pub async fn find_with_role_by_id(
    pool: &AnyPool,
    user_id: i64,
    workspace_id: i64,
) -> Result<Option<WorkspaceRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{WITH_ROLE} WHERE w.id = $2")))
        .bind(user_id)
        .bind(workspace_id)
        .fetch_optional(pool)
        .await
}

/// The organization a workspace belongs to (for links to its pages).
pub async fn org_of(pool: &sqlx::AnyPool, workspace_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT org_id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(pool)
        .await
}
