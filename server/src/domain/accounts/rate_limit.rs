//! Sign-in attempts are limited (GCRA from `governor`) at three levels, checked in this order:
//!
//! - per email *and* address: `attempts` a minute. One address guessing one account is slowed
//!   here first, and its refused attempts count against nothing else.
//! - per address: `attempts × SHARED_FACTOR` a minute, so spraying many accounts from one host
//!   does not scale. Several people behind one proxy share an address (unless the proxy is listed
//!   in `trusted_proxies`), hence the headroom.
//! - per email: `attempts × SHARED_FACTOR` a minute across all addresses, so a distributed guess
//!   at one account does not scale either. One address can use at most `attempts` of it, so it
//!   takes several addresses to lock an account out, and no single address can lock out everyone.
//!
//! Refused attempts are not audited one row each (a flood would flood the trail): they are
//! counted per address, and `RefusalTally` hands back one summary (with the count and the first
//! emails tried) per address and window.
//! Limits live in memory: a restart forgets them, which only ever helps a locked-out user.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much more an address or an email (shared by many) may try than one email from one address.
pub const SHARED_FACTOR: u32 = 5;

pub struct LoginRateLimiter {
    per_pair: DefaultKeyedRateLimiter<(String, String)>,
    per_address: DefaultKeyedRateLimiter<String>,
    per_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    refusals: RefusalTally,
}

/// Refused attempts from one address during one window, for one audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalSummary {
    pub ip: String,
    pub count: u64,
    /// The first few emails tried (normalized) ...
    pub emails: Vec<String>,
    /// ... and how many refused attempts were at other emails.
    pub more_emails: u64,
    /// How long the window was, in whole seconds (for the entry's text).
    pub window_secs: u64,
}

impl LoginRateLimiter {
    pub fn per_minute(attempts: u32) -> Self {
        Self::with_audit_window(attempts, Duration::from_secs(60))
    }

    /// `window`: how long refused attempts are counted before they make one audit entry.
    pub fn with_audit_window(attempts: u32, window: Duration) -> Self {
        let attempts = NonZeroU32::new(attempts.max(1)).expect("at least one");
        let shared = attempts.saturating_mul(NonZeroU32::new(SHARED_FACTOR).expect("non-zero"));
        LoginRateLimiter {
            per_pair: RateLimiter::keyed(Quota::per_minute(attempts)),
            per_address: RateLimiter::keyed(Quota::per_minute(shared)),
            per_email: RateLimiter::keyed(Quota::per_minute(shared)),
            clock: DefaultClock::default(),
            refusals: RefusalTally::new(window),
        }
    }

    /// Records one attempt for this email and address; `Err(seconds)` says how long to wait.
    /// A refusal is counted for the audit trail: see `take_closed_windows`.
    pub fn check(&self, email: &str, ip: &str) -> Result<(), Refused> {
        // Stop at the first level that refuses: a refused attempt uses no quota of the wider levels.
        let verdict = self
            .per_pair
            .check_key(&(email.to_string(), ip.to_string()))
            .and_then(|_| self.per_address.check_key(&ip.to_string()))
            .and_then(|_| self.per_email.check_key(&email.to_string()));
        let Err(not_until) = verdict else { return Ok(()) };
        let wait = not_until.wait_time_from(self.clock.now());
        // Round up: a client that waits exactly Retry-After seconds must then succeed.
        let retry_after_secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        let closed = self.refusals.record(email, ip, Instant::now());
        Err(Refused { retry_after_secs, closed })
    }

    /// Summaries of the refusal windows that have ended, for the audit trail.
    pub fn take_closed_windows(&self) -> Vec<RefusalSummary> {
        self.refusals.take_closed(Instant::now())
    }

    /// How often closed refusal windows should be collected.
    pub fn audit_window(&self) -> Duration {
        self.refusals.window
    }

    /// Drops idle keys so the maps do not grow with every address ever seen.
    pub fn forget_idle(&self) {
        self.per_pair.retain_recent();
        self.per_address.retain_recent();
        self.per_email.retain_recent();
    }
}

/// A refused sign-in attempt.
#[derive(Debug)]
pub struct Refused {
    pub retry_after_secs: u64,
    /// The previous window of this email and address, if this refusal closed it.
    pub closed: Option<RefusalSummary>,
}

/// Emails named in one summary; the rest are only counted.
const EMAILS_NAMED: usize = 5;
/// Addresses tallied separately in one window; beyond this, refusals go to one shared bucket,
/// so a flood from many addresses cannot grow the map (or the audit trail) without bound.
const ADDRESSES_TALLIED: usize = 10_000;
const OVERFLOW: &str = "(many addresses)";

struct Window {
    started: Instant,
    count: u64,
    emails: Vec<String>,
    more_emails: u64,
}

/// Counts refusals per address in windows that start at the address's first refusal.
struct RefusalTally {
    window: Duration,
    open: Mutex<HashMap<String, Window>>,
}

impl RefusalTally {
    fn new(window: Duration) -> Self {
        RefusalTally { window: window.max(Duration::from_millis(100)), open: Mutex::new(HashMap::new()) }
    }

    fn summary(&self, ip: String, window: Window) -> RefusalSummary {
        RefusalSummary {
            ip,
            count: window.count,
            emails: window.emails,
            more_emails: window.more_emails,
            window_secs: self.window.as_secs().max(1),
        }
    }

    /// Counts a refusal; hands back the address's previous window if it had ended.
    fn record(&self, email: &str, ip: &str, now: Instant) -> Option<RefusalSummary> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = if open.len() >= ADDRESSES_TALLIED && !open.contains_key(ip) { OVERFLOW } else { ip };
        let closed = match open.get(key) {
            Some(window) if now.duration_since(window.started) >= self.window => {
                open.remove(key).map(|window| self.summary(key.to_string(), window))
            }
            _ => None,
        };
        let window = open.entry(key.to_string()).or_insert_with(|| Window {
            started: now,
            count: 0,
            emails: Vec::new(),
            more_emails: 0,
        });
        window.count += 1;
        if !window.emails.iter().any(|e| e == email) {
            if window.emails.len() < EMAILS_NAMED {
                window.emails.push(email.to_string());
            } else {
                // Counts further attempts, not distinct emails: naming them all would let a
                // flood grow this entry; the count says enough.
                window.more_emails += 1;
            }
        }
        closed
    }

    fn take_closed(&self, now: Instant) -> Vec<RefusalSummary> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let ended: Vec<String> = open
            .iter()
            .filter(|(_, window)| now.duration_since(window.started) >= self.window)
            .map(|(key, _)| key.clone())
            .collect();
        ended
            .into_iter()
            .filter_map(|key| open.remove(&key).map(|window| self.summary(key, window)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_past_the_quota_are_refused_with_a_wait() {
        let limiter = LoginRateLimiter::per_minute(3);
        for _ in 0..3 {
            assert!(limiter.check("ada@example.org", "10.0.0.1").is_ok());
        }
        let wait = limiter.check("ada@example.org", "10.0.0.1").unwrap_err().retry_after_secs;
        assert!((1..=60).contains(&wait), "{wait}");
    }

    #[test]
    fn one_email_is_limited_across_addresses() {
        let limiter = LoginRateLimiter::per_minute(2);
        for i in 0..2 * SHARED_FACTOR {
            assert!(limiter.check("ada@example.org", &format!("10.0.0.{i}")).is_ok(), "{i}");
        }
        assert!(limiter.check("ada@example.org", "10.0.1.1").is_err());
        assert!(limiter.check("bob@example.org", "10.0.1.2").is_ok());
    }

    #[test]
    fn one_address_hammering_one_account_locks_neither_the_account_nor_the_address_for_others() {
        let limiter = LoginRateLimiter::per_minute(3);
        let attacker = "203.0.113.66";
        let refused = (0..100).filter(|_| limiter.check("ada@example.org", attacker).is_err()).count();
        assert_eq!(refused, 97);
        // Ada, from her own address, still gets in; others behind the attacker's address too.
        assert!(limiter.check("ada@example.org", "198.51.100.1").is_ok());
        assert!(limiter.check("bob@example.org", attacker).is_ok());
    }

    #[test]
    fn one_address_spraying_accounts_is_limited_per_address() {
        let limiter = LoginRateLimiter::per_minute(2);
        let sprayed =
            (0..100).filter(|i| limiter.check(&format!("u{i}@example.org"), "203.0.113.66").is_ok()).count();
        assert_eq!(sprayed, (2 * SHARED_FACTOR) as usize);
        assert!(limiter.check("u1@example.org", "198.51.100.1").is_ok(), "other addresses are not affected");
    }

    #[test]
    fn refusals_make_one_summary_per_address_and_window_with_a_count() {
        let tally = RefusalTally::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(tally.record("ada@example.org", "10.0.0.1", start), None);
        for s in 1..30 {
            let email = format!("u{}@example.org", s % 10);
            assert_eq!(tally.record(&email, "10.0.0.1", start + Duration::from_secs(s)), None);
        }
        tally.record("bob@example.org", "10.0.0.2", start + Duration::from_secs(30));
        assert!(tally.take_closed(start + Duration::from_secs(59)).is_empty(), "windows still open");
        let closed = tally.take_closed(start + Duration::from_secs(60));
        assert_eq!(closed.len(), 1);
        assert_eq!((closed[0].ip.as_str(), closed[0].count), ("10.0.0.1", 30));
        assert_eq!(closed[0].emails.len(), EMAILS_NAMED);
        assert_eq!(closed[0].emails[0], "ada@example.org");
        assert!(closed[0].more_emails > 0);
        // A refusal after the window ended closes it on the spot and opens the next.
        let next = tally.record("bob@example.org", "10.0.0.2", start + Duration::from_secs(95)).unwrap();
        assert_eq!(
            (next.ip.as_str(), next.count, next.emails.clone()),
            ("10.0.0.2", 1, vec!["bob@example.org".into()])
        );
        assert_eq!(tally.take_closed(start + Duration::from_secs(154)), vec![]);
        assert_eq!(tally.take_closed(start + Duration::from_secs(155))[0].count, 1);
    }

    #[test]
    fn a_flood_from_many_addresses_shares_one_bucket_past_the_cap() {
        let tally = RefusalTally::new(Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..ADDRESSES_TALLIED + 50 {
            tally.record("ada@example.org", &format!("ip{i}"), now);
        }
        let closed = tally.take_closed(now + Duration::from_secs(60));
        assert_eq!(closed.len(), ADDRESSES_TALLIED + 1);
        assert_eq!(closed.iter().find(|s| s.ip == OVERFLOW).unwrap().count, 50);
    }
}
