//! Personal access tokens as the Access tokens page lists them: name and dates. The token itself
//! is not here: the server keeps only its hash and shows it once, at creation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub id: i64,
    pub name: String,
    /// Milliseconds since the epoch, UTC.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// `None`: the token never expires.
    pub expires_at: Option<i64>,
}

/// The longest lifetime a token may be given, in days (the server enforces it too).
pub const TOKEN_MAX_LIFETIME_DAYS: i64 = 3650;
