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

use app::model::SessionUser;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a resolved token is taken on trust without asking the database again.
pub const TRUST_FOR: Duration = Duration::from_secs(1);

/// More distinct tokens than this within `TRUST_FOR` empties the map before the next entry, so
/// a flood of tokens cannot grow it.
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub struct ResolvedToken {
    pub user: SessionUser,
    pub expires_at: Option<i64>,
}

struct Entry {
    token: ResolvedToken,
    resolved: Instant,
}

#[derive(Default)]
pub struct RecentTokens {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_hash: HashMap<String, Entry>,
    /// Counts `forget_all` calls. A token read from the database before a revocation committed
    /// must not be put back after it: `put` takes the generation seen before the read.
    generation: u64,
}

impl RecentTokens {
    /// The token resolved within `TRUST_FOR` and not expired at `now_ms`, if any.
    pub fn get(&self, token_hash: &str, now_ms: i64) -> Option<ResolvedToken> {
        let entries = self.lock();
        let entry = entries.by_hash.get(token_hash)?;
        let fresh = entry.resolved.elapsed() < TRUST_FOR;
        let unexpired = entry.token.expires_at.is_none_or(|at| at > now_ms);
        (fresh && unexpired).then(|| entry.token.clone())
    }

    /// Take before reading the token's row; give to `put` after.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps a token read from the database, unless a `forget_all` came since `generation`.
    pub fn put(&self, token_hash: String, token: ResolvedToken, generation: u64) {
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        if entries.by_hash.len() >= MAX_ENTRIES {
            entries.by_hash.retain(|_, entry| entry.resolved.elapsed() < TRUST_FOR);
            if entries.by_hash.len() >= MAX_ENTRIES {
                entries.by_hash.clear();
            }
        }
        entries.by_hash.insert(token_hash, Entry { token, resolved: Instant::now() });
    }

    /// A token was revoked or a user disabled: nothing kept may be trusted any more.
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.by_hash.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The map holds no invariant a panicking holder could break halfway.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(recent.lock().by_hash.len() <= MAX_ENTRIES);
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
