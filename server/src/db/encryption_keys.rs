//! The `encryption_keys` table: the key-encryption keys a database knows, by id and check value
//! (never the key itself), each with its state. Plain row access: the rules (which key may start
//! a server, which one new values are sealed under, when a rotation target becomes active) are in
//! `crypto::kek_registry`.

use sqlx::{AnyPool, FromRow};

/// A registered key's state, stored in `encryption_keys.active` (it was 0/1 before key rotation
/// added the target state; no migration needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// The key new values are sealed under (1).
    Active,
    /// Registered by `strongroom keys rotate`, not yet active (2).
    RotationTarget,
    /// A former active key (0, and any value no version of Strongroom writes).
    Retired,
}

impl KeyState {
    /// The value stored in `encryption_keys.active`.
    pub const fn column(self) -> i64 {
        match self {
            KeyState::Active => 1,
            KeyState::RotationTarget => 2,
            KeyState::Retired => 0,
        }
    }
}

impl From<i64> for KeyState {
    fn from(column: i64) -> KeyState {
        match column {
            1 => KeyState::Active,
            2 => KeyState::RotationTarget,
            _ => KeyState::Retired,
        }
    }
}

/// A registered key: its check value and state.
#[derive(Debug, Clone, FromRow)]
pub struct KeyRecord {
    pub key_id: String,
    pub check_value: String,
    #[sqlx(rename = "active", try_from = "i64")]
    pub state: KeyState,
}

pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM encryption_keys").fetch_one(pool).await
}

pub async fn find_key(pool: &AnyPool, key_id: &str) -> Result<Option<KeyRecord>, sqlx::Error> {
    sqlx::query_as("SELECT key_id, check_value, active FROM encryption_keys WHERE key_id = $1")
        .bind(key_id)
        .fetch_optional(pool)
        .await
}

pub async fn keys_in_state(pool: &AnyPool, state: KeyState) -> Result<Vec<KeyRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT key_id, check_value, active FROM encryption_keys WHERE active = $1 ORDER BY key_id",
    )
    .bind(state.column())
    .fetch_all(pool)
    .await
}

pub async fn active_key_id(pool: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key_id FROM encryption_keys WHERE active = $1")
        .bind(KeyState::Active.column())
        .fetch_optional(pool)
        .await
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
    .bind(KeyState::Active.column())
    .execute(pool)
    .await
    .map(|_| ())
}

/// Registers `key_id` as the rotation target, or marks an already registered retired key so.
/// Never demotes the active key: the caller checks that first.
pub async fn register_target(
    pool: &AnyPool,
    key_id: &str,
    check_value: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO encryption_keys (key_id, check_value, created_at, active) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key_id) DO UPDATE SET active = $4 WHERE encryption_keys.active = $5",
    )
    .bind(key_id)
    .bind(check_value)
    .bind(now)
    .bind(KeyState::RotationTarget.column())
    .bind(KeyState::Retired.column())
    .execute(pool)
    .await
    .map(|_| ())
}
