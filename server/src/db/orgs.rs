use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub description: String,
    /// 1 when the user the query was made for owns the organization.
    pub is_owner: i64,
}

pub struct NewOrg<'a> {
    pub name: &'a str,
    pub full_name: &'a str,
    pub description: &'a str,
    pub created_by: i64,
}

/// Inserts the organization and makes its creator the owner.
pub async fn insert(tx: &mut Tx<'_>, org: NewOrg<'_>, now: i64) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO organizations (name, name_key, full_name, description, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(org.name)
    .bind(org.name.to_lowercase())
    .bind(org.full_name)
    .bind(org.description)
    .bind(org.created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO org_owners (org_id, user_id) VALUES ($1, $2)")
        .bind(id)
        .bind(org.created_by)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

const VISIBLE_TO_USER: &str = "SELECT o.id, o.name, o.full_name, o.description, \
     CASE WHEN EXISTS (SELECT 1 FROM org_owners oo WHERE oo.org_id = o.id AND oo.user_id = $1) \
     THEN 1 ELSE 0 END AS is_owner \
     FROM organizations o \
     WHERE (o.id IN (SELECT org_id FROM org_owners WHERE user_id = $1) \
        OR o.id IN (SELECT w.org_id FROM workspaces w \
                    JOIN workspace_participants p ON p.workspace_id = w.id WHERE p.user_id = $1))";

/// Organizations the user owns or has a workspace in.
pub async fn list_for_user(pool: &AnyPool, user_id: i64) -> Result<Vec<OrgRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{VISIBLE_TO_USER} ORDER BY o.name_key")))
        .bind(user_id)
        .fetch_all(pool)
        .await
}

/// The organization, only if the user can see it: an id outside their reach is "not found".
pub async fn find_for_user(pool: &AnyPool, user_id: i64, org_id: i64) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{VISIBLE_TO_USER} AND o.id = $2")))
        .bind(user_id)
        .bind(org_id)
        .fetch_optional(pool)
        .await
}
