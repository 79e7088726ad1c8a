//! Sign-in attempts are limited per email and per client address (GCRA from `governor`), so
//! neither guessing one account's password nor spraying many accounts from one host scales.
//! Limits live in memory: a restart forgets them, which only ever helps a locked-out user.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

pub struct LoginRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl LoginRateLimiter {
    pub fn per_minute(attempts: u32) -> Self {
        let attempts = NonZeroU32::new(attempts.max(1)).expect("at least one");
        LoginRateLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(attempts)),
            clock: DefaultClock::default(),
        }
    }

    /// Records one attempt for this email and address; `Err(seconds)` says how long to wait.
    pub fn check(&self, email: &str, ip: &str) -> Result<(), u64> {
        let mut wait = std::time::Duration::ZERO;
        for key in [format!("email:{email}"), format!("ip:{ip}")] {
            if let Err(not_until) = self.limiter.check_key(&key) {
                wait = wait.max(not_until.wait_time_from(self.clock.now()));
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            // Round up: a client that waits exactly Retry-After seconds must then succeed.
            Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        }
    }

    /// Drops idle keys so the map does not grow with every address ever seen.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
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
        let wait = limiter.check("ada@example.org", "10.0.0.1").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
    }

    #[test]
    fn one_email_is_limited_across_addresses() {
        let limiter = LoginRateLimiter::per_minute(2);
        assert!(limiter.check("ada@example.org", "10.0.0.1").is_ok());
        assert!(limiter.check("ada@example.org", "10.0.0.2").is_ok());
        assert!(limiter.check("ada@example.org", "10.0.0.3").is_err());
        assert!(limiter.check("bob@example.org", "10.0.0.4").is_ok());
    }
}
