//! Server-side browser sessions. The cookie holds 32 random bytes; the database holds only their
//! SHA-256, so a database leak yields no usable session. Sessions end after an idle period, after
//! an absolute lifetime, at sign-out, and at once when the user is disabled.

use crate::config::Config;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct SessionPolicy {
    pub idle_ms: i64,
    pub absolute_ms: i64,
    pub cookie_name: &'static str,
    pub secure: bool,
}

impl SessionPolicy {
    pub fn from_config(config: &Config) -> Self {
        let secure = config.is_https();
        SessionPolicy {
            idle_ms: (config.session_idle_minutes as i64).saturating_mul(60_000),
            absolute_ms: (config.session_max_hours as i64).saturating_mul(3_600_000),
            // `__Host-` makes the browser refuse the cookie unless it is Secure, host-only and
            // path=/, so a sibling subdomain cannot plant or read it.
            cookie_name: if secure { "__Host-strongroom_session" } else { "strongroom_session" },
            secure,
        }
    }

    /// Whether a session created and last seen at these times is still alive at `now`.
    pub fn is_alive(&self, created_at: i64, last_seen_at: i64, now: i64) -> bool {
        now - last_seen_at < self.idle_ms && now - created_at < self.absolute_ms
    }

    pub fn set_cookie(&self, token: &str) -> String {
        let max_age = self.absolute_ms / 1000;
        format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
            self.cookie_name,
            if self.secure { "; Secure" } else { "" }
        )
    }

    pub fn clear_cookie(&self) -> String {
        format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            self.cookie_name,
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// The session token from a `Cookie` header, if present.
    pub fn token_from_cookies<'a>(&self, header: &'a str) -> Option<&'a str> {
        header.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == self.cookie_name && !value.is_empty()).then_some(value)
        })
    }
}

/// A new random session token (256 bits, URL-safe base64).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(https: bool) -> SessionPolicy {
        let config = Config {
            public_url: if https { "https://sr.example.org".into() } else { "http://127.0.0.1:3000".into() },
            session_idle_minutes: 30,
            session_max_hours: 12,
            ..Config::default()
        };
        SessionPolicy::from_config(&config)
    }

    #[test]
    fn sessions_expire_when_idle_or_too_old() {
        let p = policy(false);
        let minute = 60_000;
        assert!(p.is_alive(0, 0, 29 * minute));
        assert!(!p.is_alive(0, 0, 30 * minute), "idle timeout");
        assert!(p.is_alive(0, 11 * 60 * minute, 11 * 60 * minute + 1));
        assert!(!p.is_alive(0, 12 * 60 * minute - 1, 12 * 60 * minute), "absolute timeout");
    }

    #[test]
    fn cookies_are_http_only_and_host_prefixed_over_https() {
        let plain = policy(false).set_cookie("tok");
        assert!(plain.starts_with("strongroom_session=tok;"));
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        let https = policy(true).set_cookie("tok");
        assert!(https.starts_with("__Host-strongroom_session=tok;"));
        assert!(https.contains("; Secure") && https.contains("Path=/"));
        assert!(!https.contains("Domain"));
    }

    #[test]
    fn token_is_read_from_the_right_cookie_only() {
        let p = policy(false);
        assert_eq!(p.token_from_cookies("a=1; strongroom_session=abc; b=2"), Some("abc"));
        assert_eq!(p.token_from_cookies("xstrongroom_session=abc"), None);
        assert_eq!(p.token_from_cookies("strongroom_session="), None);
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
