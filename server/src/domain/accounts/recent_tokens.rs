//! Personal access tokens this server resolved within the last second, so a busy API client's
//! request costs the database one round trip (its own query) instead of two.
//!
//! What is kept is what the token's row said: the user and the token's expiry, keyed by the
//! token's SHA-256 (never the token). Expiry is checked at every use. `lastUsed` is written at
//! most once a minute when the row is read, so a second served from here leaves it as current.
//! Revoking a token or disabling a user on this server forgets every entry at once, so here the
//! change holds from the next request. Another replica behind the same load balancer, or the
//! command line, changes only the database: a server that resolved the token within the last
//! `TRUST_FOR` may accept it that much longer. Run tokens are never kept: their run's end must
//! stop them at once, and they are used a few times a minute.

use crate::domain::recent::Recent;
use app::model::SessionUser;

pub use crate::domain::recent::TRUST_FOR;

/// More distinct tokens than this within `TRUST_FOR` empties the map before the next entry, so
/// a flood of tokens cannot grow it.
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub struct ResolvedToken {
    pub user: SessionUser,
    pub expires_at: Option<i64>,
}

/// Keyed by the token's SHA-256, never the token.
pub struct RecentTokens {
    by_hash: Recent<String, ResolvedToken>,
}

impl Default for RecentTokens {
    fn default() -> RecentTokens {
        RecentTokens { by_hash: Recent::new(MAX_ENTRIES) }
    }
}

impl RecentTokens {
    /// The token resolved within `TRUST_FOR` and not expired at `now_ms`, if any.
    pub fn get(&self, token_hash: &str, now_ms: i64) -> Option<ResolvedToken> {
        let token = self.by_hash.get(token_hash)?;
        token.expires_at.is_none_or(|at| at > now_ms).then_some(token)
    }

    /// Take before reading the token's row; give to `put` after.
    pub fn generation(&self) -> u64 {
        self.by_hash.generation()
    }

    /// Keeps a token read from the database, unless a `forget_all` came since `generation`.
    pub fn put(&self, token_hash: String, token: ResolvedToken, generation: u64) {
        self.by_hash.put(token_hash, token, 1, generation);
    }

    /// A token was revoked or a user disabled: nothing kept may be trusted any more.
    pub fn forget_all(&self) {
        self.by_hash.forget_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn token(expires_at: Option<i64>) -> ResolvedToken {
        let user = SessionUser {
            id: 7,
            email: "ada@example.org".into(),
            display_name: "Ada".into(),
            is_instance_admin: false,
        };
        ResolvedToken { user, expires_at }
    }

    #[test]
    fn a_token_is_trusted_for_a_second_then_asked_again() {
        let recent = RecentTokens::default();
        recent.put("h".into(), token(None), recent.generation());
        assert_eq!(recent.get("h", 0).map(|t| t.user.id), Some(7));
        assert!(recent.get("other", 0).is_none());
        std::thread::sleep(TRUST_FOR + Duration::from_millis(50));
        assert!(recent.get("h", 0).is_none(), "older than TRUST_FOR");
    }

    #[test]
    fn an_expired_token_is_not_served() {
        let recent = RecentTokens::default();
        recent.put("h".into(), token(Some(1_000)), 0);
        assert!(recent.get("h", 999).is_some());
        assert!(recent.get("h", 1_000).is_none());
    }

    #[test]
    fn forgetting_drops_every_entry_and_the_map_stays_bounded() {
        let recent = RecentTokens::default();
        for i in 0..MAX_ENTRIES + 5 {
            recent.put(format!("h{i}"), token(None), 0);
        }
        assert!(recent.by_hash.weight() <= MAX_ENTRIES);
        assert!(recent.get(&format!("h{}", MAX_ENTRIES + 4), 0).is_some(), "the newest is kept");
        recent.forget_all();
        assert!(recent.get(&format!("h{}", MAX_ENTRIES + 4), 0).is_none());
    }

    #[test]
    fn a_row_read_before_a_revocation_is_not_kept_after_it() {
        let recent = RecentTokens::default();
        let before_the_read = recent.generation();
        recent.forget_all(); // the revocation commits while the row is being read
        recent.put("h".into(), token(None), before_the_read);
        assert!(recent.get("h", 0).is_none());
        recent.put("h".into(), token(None), recent.generation());
        assert!(recent.get("h", 0).is_some(), "a read after it is kept");
    }
}
