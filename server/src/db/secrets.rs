//! Secret rows. Reads that list or describe return metadata only: the sealed columns are read by
//! `find_sealed` alone, which the provisioning path (and key rotation) uses.

use super::workspaces::WorkspaceRow;
use super::{Backend, Db, Tx};
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

/// Whose secret: a workspace's, or one user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Workspace(i64),
    User(i64),
}

impl Owner {
    pub fn scope(self) -> &'static str {
        match self {
            Owner::Workspace(_) => "workspace",
            Owner::User(_) => "user",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Owner::Workspace(id) | Owner::User(id) => id,
        }
    }

    /// The row's `workspace_id` and `user_id`: the owner's id in one, NULL in the other.
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Owner::Workspace(id) => (Some(id), None),
            Owner::User(id) => (None, Some(id)),
        }
    }

    /// The SQL condition selecting this owner's rows, with the owner id as `$1`: for lookups by
    /// name and for lists, which the owner's partial `(owner, name)` index serves.
    fn filter(self) -> &'static str {
        match self {
            Owner::Workspace(_) => "scope = 'workspace' AND workspace_id = $1",
            Owner::User(_) => "scope = 'user' AND user_id = $1",
        }
    }

    /// The same owner check for statements that name the row by `id`. The scope is left out on
    /// purpose: the table's CHECK sets `workspace_id` on workspace secrets only and `user_id`
    /// on personal ones, so the owner column alone says it; and with the scope written,
    /// PostgreSQL may serve the statement from the partial name index instead of the primary
    /// key. Without statistics (autovacuum off, or a table grown since its last ANALYZE) its
    /// cached generic plan did, scanning the whole workspace for every write: creates fell to
    /// 42/s at 45,000 secrets. Without the scope only the primary key fits.
    fn row_filter(self) -> &'static str {
        match self {
            Owner::Workspace(_) => "workspace_id = $1",
            Owner::User(_) => "user_id = $1",
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct SecretMetaRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(FromRow)]
pub struct SealedRow {
    pub id: i64,
    pub version: i64,
    pub key_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

const META: &str = "SELECT id, name, created_at, updated_at, last_used_at FROM secrets";

pub struct NewSealed<'a> {
    pub algorithm: &'a str,
    pub key_id: &'a str,
    pub wrapped_key: &'a [u8],
    pub ciphertext: &'a [u8],
}

/// Inserts a row with a placeholder seal and returns its id: the id is part of the associated
/// data, so the value is sealed after the id is known and written by `store_seal` in the same
/// transaction.
pub async fn insert_placeholder(
    tx: &mut Tx<'_>,
    owner: Owner,
    name: &str,
    created_by: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let (workspace_id, user_id) = owner.columns();
    sqlx::query_scalar(
        "INSERT INTO secrets (scope, workspace_id, user_id, name, version, algorithm, key_id, \
         wrapped_key, ciphertext, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, '', '', $5, $5, $6, $7, $7) RETURNING id",
    )
    .bind(owner.scope())
    .bind(workspace_id)
    .bind(user_id)
    .bind(name)
    .bind(Vec::<u8>::new())
    .bind(created_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// PostgreSQL only: the next secret id, taken from the table's sequence outside any transaction
/// (a sequence hands each number out once, whether its row is written or not). With the id known
/// before the batch, the value is sealed first and the row written whole by `insert_sealed`: one
/// statement inside the audited batch instead of two.
pub async fn reserve_id(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('secrets', 'id'))").fetch_one(pool).await
}

/// Inserts a secret at version 1 with the id `reserve_id` gave and its value already sealed.
pub async fn insert_sealed(
    tx: &mut Tx<'_>,
    owner: Owner,
    id: i64,
    name: &str,
    sealed: NewSealed<'_>,
    created_by: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (workspace_id, user_id) = owner.columns();
    sqlx::query(
        "INSERT INTO secrets (id, scope, workspace_id, user_id, name, version, algorithm, key_id, \
         wrapped_key, ciphertext, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(id)
    .bind(owner.scope())
    .bind(workspace_id)
    .bind(user_id)
    .bind(name)
    .bind(sealed.algorithm)
    .bind(sealed.key_id)
    .bind(sealed.wrapped_key)
    .bind(sealed.ciphertext)
    .bind(created_by)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Writes a new sealed value at `version`, scoped by owner.
pub async fn store_seal(
    tx: &mut Tx<'_>,
    owner: Owner,
    id: i64,
    version: i64,
    sealed: NewSealed<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE secrets SET version = $2, algorithm = $3, key_id = $4, wrapped_key = $5, \
         ciphertext = $6, updated_at = $7 WHERE {} AND id = $8",
        owner.row_filter()
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(owner.id())
        .bind(version)
        .bind(sealed.algorithm)
        .bind(sealed.key_id)
        .bind(sealed.wrapped_key)
        .bind(sealed.ciphertext)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The current version and the name of a secret, scoped by owner.
pub async fn current_version(
    tx: &mut Tx<'_>,
    owner: Owner,
    id: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let sql = format!("SELECT version, name FROM secrets WHERE {} AND id = $2", owner.row_filter());
    sqlx::query_as(AssertSqlSafe(sql)).bind(owner.id()).bind(id).fetch_optional(&mut **tx).await
}

/// One page of the owner's secrets (metadata), and how many match in all.
pub async fn list(
    db: &Db,
    owner: Owner,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SecretMetaRow>, i64), sqlx::Error> {
    // Without a search, no per-row LOWER/LIKE: the owner's name index gives the rows in order.
    let filter = if search.is_empty() {
        format!("{} AND $2 = ''", owner.filter())
    } else {
        format!("{} AND LOWER(name) LIKE $2 ESCAPE '!'", owner.filter())
    };
    let pattern =
        if search.is_empty() { String::new() } else { format!("%{}%", escape_like(&search.to_lowercase())) };
    let page: String = sqlx::query_scalar(AssertSqlSafe(page_as_json(db.backend, &filter)))
        .bind(owner.id())
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_one(&db.pool)
        .await?;
    let rows: Vec<(i64, String, i64, i64, Option<i64>)> =
        serde_json::from_str(&page).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let rows: Vec<SecretMetaRow> = rows
        .into_iter()
        .map(|(id, name, created_at, updated_at, last_used_at)| SecretMetaRow {
            id,
            name,
            created_at,
            updated_at,
            last_used_at,
        })
        .collect();
    // A page that is not full ends the list, so it tells the total without counting again
    // (an empty page past the end does not: it may be past a list that shrank).
    let fetched = rows.len() as i64;
    if fetched < limit && (fetched > 0 || offset == 0) {
        return Ok((rows, offset + fetched));
    }
    let total = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM secrets WHERE {filter}")))
        .bind(owner.id())
        .bind(&pattern)
        .fetch_one(&db.pool)
        .await?;
    Ok((rows, total))
}

/// The page's rows as one JSON array of `[id, name, created_at, updated_at, last_used_at]`,
/// built by the database: one row to fetch instead of one per secret. On SQLite every row
/// crosses from the connection's thread to the server's through a channel, with a wake-up each;
/// for a page of 1,000 those hand-overs were a large part of the list's cost.
fn page_as_json(backend: Backend, filter: &str) -> String {
    let page = format!("{META} WHERE {filter} ORDER BY name LIMIT $3 OFFSET $4");
    let row = "id, name, created_at, updated_at, last_used_at";
    match backend {
        Backend::Sqlite => format!("SELECT json_group_array(json_array({row}) ORDER BY name) FROM ({page})"),
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({row}) ORDER BY name), '[]')::text FROM ({page}) page"
        ),
    }
}

/// `text` matched literally inside a `LIKE … ESCAPE '!'` pattern: `_` (in most secret names) and
/// `%` stand for themselves, not for any character. `!` is the escape character because SQLite
/// and PostgreSQL read it the same way (a backslash depends on PostgreSQL's string settings).
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

pub async fn find(pool: &AnyPool, owner: Owner, id: i64) -> Result<Option<SecretMetaRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("{META} WHERE {} AND id = $2", owner.row_filter())))
        .bind(owner.id())
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The caller's workspace row (with their role) and, if it is there, one of its secrets: one
/// round trip for a describe. Only for `policy::authorize_workspace_with`, which releases the
/// secret only once the role allows reading.
pub async fn find_with_workspace(
    pool: &AnyPool,
    user_id: i64,
    workspace_id: i64,
    id: i64,
) -> Result<Option<(WorkspaceRow, Option<SecretMetaRow>)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Joined {
        #[sqlx(flatten)]
        workspace: WorkspaceRow,
        secret_id: Option<i64>,
        secret_name: Option<String>,
        secret_created_at: Option<i64>,
        secret_updated_at: Option<i64>,
        secret_last_used_at: Option<i64>,
    }
    let joined: Option<Joined> = sqlx::query_as(
        "SELECT w.id, w.org_id, w.name, w.full_name, w.description, w.visibility, p.role, \
         s.id AS secret_id, s.name AS secret_name, s.created_at AS secret_created_at, \
         s.updated_at AS secret_updated_at, s.last_used_at AS secret_last_used_at \
         FROM workspaces w \
         LEFT JOIN workspace_participants p ON p.workspace_id = w.id AND p.user_id = $1 \
         LEFT JOIN secrets s ON s.id = $3 AND s.workspace_id = w.id \
         WHERE w.id = $2",
    )
    .bind(user_id)
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(joined.map(|j| {
        let secret = match (j.secret_id, j.secret_name, j.secret_created_at, j.secret_updated_at) {
            (Some(id), Some(name), Some(created_at), Some(updated_at)) => {
                Some(SecretMetaRow { id, name, created_at, updated_at, last_used_at: j.secret_last_used_at })
            }
            _ => None,
        };
        (j.workspace, secret)
    }))
}

pub async fn name_taken(pool: &AnyPool, owner: Owner, name: &str) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM secrets WHERE {} AND name = $2", owner.filter());
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql)).bind(owner.id()).bind(name).fetch_one(pool).await?;
    Ok(n > 0)
}

/// Deletes a secret, returning its name (`None` when there was no such secret).
pub async fn delete(tx: &mut Tx<'_>, owner: Owner, id: i64) -> Result<Option<String>, sqlx::Error> {
    let sql = format!("DELETE FROM secrets WHERE {} AND id = $2 RETURNING name", owner.row_filter());
    sqlx::query_scalar(AssertSqlSafe(sql)).bind(owner.id()).bind(id).fetch_optional(&mut **tx).await
}

/// The sealed value, for the provisioning path only.
pub async fn find_sealed(pool: &AnyPool, owner: Owner, id: i64) -> Result<Option<SealedRow>, sqlx::Error> {
    let sql = format!(
        "SELECT id, version, key_id, wrapped_key, ciphertext FROM secrets WHERE {} AND id = $2",
        owner.row_filter()
    );
    sqlx::query_as(AssertSqlSafe(sql)).bind(owner.id()).bind(id).fetch_optional(pool).await
}

/// The ids of the owner's secrets among `names` (names not found are simply absent).
pub async fn ids_by_name(
    pool: &AnyPool,
    owner: Owner,
    names: &[String],
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let mut found = Vec::with_capacity(names.len());
    // One query per name keeps the SQL portable (no array binds on SQLite); launches name few.
    for name in names {
        let sql = format!("SELECT id, name FROM secrets WHERE {} AND name = $2", owner.filter());
        if let Some(row) =
            sqlx::query_as(AssertSqlSafe(sql)).bind(owner.id()).bind(name).fetch_optional(pool).await?
        {
            found.push(row);
        }
    }
    Ok(found)
}

/// Records that a launch used the secret (`lastUsed` in the API).
pub async fn touch_last_used(tx: &mut Tx<'_>, owner: Owner, id: i64, now: i64) -> Result<(), sqlx::Error> {
    let sql = format!("UPDATE secrets SET last_used_at = $2 WHERE {} AND id = $3", owner.row_filter());
    sqlx::query(AssertSqlSafe(sql)).bind(owner.id()).bind(now).bind(id).execute(&mut **tx).await.map(|_| ())
}
