use super::Tx;
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// 0 or 1: the run-time driver cannot decode SQLite booleans, so flags are integers.
    pub is_instance_admin: i64,
    pub disabled: i64,
    pub created_at: i64,
}

impl UserRow {
    pub fn is_instance_admin(&self) -> bool {
        self.is_instance_admin != 0
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }
}

const COLUMNS: &str = "id, email, display_name, is_instance_admin, disabled, created_at";

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_instance_admin: bool,
}

pub async fn insert(tx: &mut Tx<'_>, user: NewUser<'_>, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, is_instance_admin, disabled, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id",
    )
    .bind(user.email)
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(i64::from(user.is_instance_admin))
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

pub async fn find_by_id(pool: &AnyPool, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS} FROM users WHERE id = $1")))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn find_by_email(pool: &AnyPool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS} FROM users WHERE email = $1")))
        .bind(email)
        .fetch_optional(pool)
        .await
}

/// The user and their password hash, for sign-in only.
pub async fn find_credentials(pool: &AnyPool, email: &str) -> Result<Option<(UserRow, String)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> =
        sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1")))
            .bind(email)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

pub async fn password_hash(pool: &AnyPool, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_optional(pool).await
}

pub async fn list(pool: &AnyPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!("SELECT {COLUMNS} FROM users ORDER BY email"))).fetch_all(pool).await
}

pub async fn set_password_hash(tx: &mut Tx<'_>, id: i64, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_disabled(tx: &mut Tx<'_>, id: i64, disabled: bool, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(disabled))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn is_setup_done(pool: &AnyPool) -> Result<bool, sqlx::Error> {
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM instance_setup").fetch_one(pool).await?;
    Ok(rows > 0)
}

/// Claims the one-time first setup; `Ok(false)` when it was already done.
pub async fn claim_setup(tx: &mut Tx<'_>, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO instance_setup (id, initialized_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
