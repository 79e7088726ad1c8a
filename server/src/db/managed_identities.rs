//! Managed identities rows, always scoped by organization except for the launch path's lookup by
//! id (`find_by_id`: a compute environment names its identity by id alone, and the launch checks
//! the identity's organization against the environment's). No column here holds a secret.

use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct IdentityRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub platform: String,
    /// JSON: hostName, port, hostKeyFingerprint.
    pub config: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewIdentity<'a> {
    pub org_id: i64,
    pub name: &'a str,
    pub platform: &'a str,
    pub config: &'a str,
    pub created_by: i64,
}

const SELECT: &str =
    "SELECT id, org_id, name, platform, config, created_at, updated_at FROM managed_identities";

pub async fn insert(tx: &mut Tx<'_>, identity: NewIdentity<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO managed_identities (org_id, name, name_key, platform, config, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(identity.org_id)
    .bind(identity.name)
    .bind(identity.name.to_lowercase())
    .bind(identity.platform)
    .bind(identity.config)
    .bind(identity.created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// The identities of an organization whose name or platform matches `search` (lower-cased, may
/// be empty), by name, one page, and how many match in all.
pub async fn list(
    pool: &AnyPool,
    org_id: i64,
    name_like: &str,
    platform: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<IdentityRow>, i64), sqlx::Error> {
    let filter = "org_id = $1 AND ($2 = '' OR name_key LIKE $2) AND ($3 = '' OR platform = $3)";
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "{SELECT} WHERE {filter} ORDER BY name_key, id LIMIT $4 OFFSET $5"
    )))
    .bind(org_id)
    .bind(name_like)
    .bind(platform)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM managed_identities WHERE {filter}")))
            .bind(org_id)
            .bind(name_like)
            .bind(platform)
            .fetch_one(pool)
            .await?;
    Ok((rows, total))
}

/// Every identity of the organizations the user owns or takes part in (for "Your cluster
/// credentials"), with the organization's name.
pub async fn list_for_member(
    pool: &AnyPool,
    user_id: i64,
) -> Result<Vec<(IdentityRow, String)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        identity: IdentityRow,
        org_name: String,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT i.id, i.org_id, i.name, i.platform, i.config, i.created_at, i.updated_at, \
         o.name AS org_name FROM managed_identities i JOIN organizations o ON o.id = i.org_id \
         WHERE i.org_id IN (SELECT org_id FROM org_owners WHERE user_id = $1) \
            OR i.org_id IN (SELECT w.org_id FROM workspaces w \
                            JOIN workspace_participants p ON p.workspace_id = w.id WHERE p.user_id = $1) \
         ORDER BY o.name_key, i.name_key, i.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.identity, r.org_name)).collect())
}

pub async fn find(pool: &AnyPool, org_id: i64, id: i64) -> Result<Option<IdentityRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE org_id = $1 AND id = $2")))
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// By id alone, for the launch path (see the module doc).
pub async fn find_by_id(pool: &AnyPool, id: i64) -> Result<Option<IdentityRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE id = $1"))).bind(id).fetch_optional(pool).await
}

/// The row, locked for the transaction (a write that changes nothing), so concurrent updates of
/// its config (an owner's edit, a Check recording the host key) happen one after the other.
pub async fn lock(tx: &mut Tx<'_>, id: i64) -> Result<Option<IdentityRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE managed_identities SET updated_at = updated_at WHERE id = $1 \
         RETURNING id, org_id, name, platform, config, created_at, updated_at",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

/// Renames and/or replaces the config, scoped by organization.
pub async fn update(
    tx: &mut Tx<'_>,
    org_id: i64,
    id: i64,
    name: &str,
    config: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE managed_identities SET name = $1, name_key = $2, config = $3, updated_at = $4 \
         WHERE org_id = $5 AND id = $6",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(config)
    .bind(now)
    .bind(org_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the identity (its managed credentials go with it, by the foreign key), returning its
/// name; the caller checks for runs afterwards in the same transaction.
pub async fn delete(tx: &mut Tx<'_>, org_id: i64, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM managed_identities WHERE org_id = $1 AND id = $2 RETURNING name")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// Whether the organization exists at all (instance administrators act as its owners without
/// taking part in it).
pub async fn org_exists(pool: &AnyPool, org_id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}
