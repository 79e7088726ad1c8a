//! The pace of the calls AWS meters per account and region: creates and deletes of copies stay
//! below the 50 requests/s quotas of CreateSecret and DeleteSecret, shared by every store of this
//! process that reaches the same (region, endpoint), so many runs at once cannot push an account
//! over its quota.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};

/// Below the 50 requests/s quotas of CreateSecret and DeleteSecret, leaving room for other
/// clients of the account.
pub const CALLS_PER_SECOND: u32 = 40;
const BURST: u32 = 10;

/// The pace of the calls AWS meters per account and region.
pub(super) struct Pacing {
    pub(super) create: DefaultDirectRateLimiter,
    pub(super) delete: DefaultDirectRateLimiter,
}

/// (region, endpoint) → its pacing.
type PacingMap = HashMap<(String, String), Arc<Pacing>>;

/// At most this many pacings: regions are few, but endpoints are typed by people. Past it, new
/// (region, endpoint) pairs share one pacing, which only makes them slower, never faster.
const MAX_PACINGS: usize = 256;

fn new_pacing() -> Arc<Pacing> {
    let quota = Quota::per_second(NonZeroU32::new(CALLS_PER_SECOND).expect("non-zero"))
        .allow_burst(NonZeroU32::new(BURST).expect("non-zero"));
    Arc::new(Pacing { create: RateLimiter::direct(quota), delete: RateLimiter::direct(quota) })
}

/// The pacing every store of this process shares for `region` at `endpoint`.
pub(super) fn pacing_for(region: &str, endpoint: Option<&str>) -> Arc<Pacing> {
    static ALL: OnceLock<Mutex<PacingMap>> = OnceLock::new();
    static OVERFLOW: OnceLock<Arc<Pacing>> = OnceLock::new();
    let key = (region.to_string(), endpoint.unwrap_or_default().to_string());
    let mut all = ALL.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pacing) = all.get(&key) {
        return pacing.clone();
    }
    if all.len() >= MAX_PACINGS {
        return OVERFLOW.get_or_init(new_pacing).clone();
    }
    all.entry(key).or_insert_with(new_pacing).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacings_are_bounded_however_many_endpoints_people_type() {
        let endpoint = |i: usize| format!("http://pacing-{i}.example.org:4566");
        for i in 0..MAX_PACINGS + 10 {
            pacing_for("eu-west-1", Some(&endpoint(i)));
        }
        let (a, b) = (endpoint(MAX_PACINGS + 20), endpoint(MAX_PACINGS + 21));
        assert!(Arc::ptr_eq(&pacing_for("eu-west-1", Some(&a)), &pacing_for("eu-west-1", Some(&b))));
        // A pair seen before the bound keeps its own pacing.
        let first = pacing_for("eu-west-1", Some(&endpoint(0)));
        assert!(Arc::ptr_eq(&first, &pacing_for("eu-west-1", Some(&endpoint(0)))));
        assert!(!Arc::ptr_eq(&first, &pacing_for("eu-west-1", Some(&a))));
    }
}
