//! Bounds on paginated listings. An endpoint that answers every page with a "next page" token
//! (a hostile or broken one) must not keep a worker or the reconciler forever, and a listing cut
//! short must never be taken as complete: past the bound, the listing fails, naming the target.

use super::ProviderError;
use std::time::{Duration, Instant};

/// Pages one listing may take (100 entries a page: ten thousand copies of this install).
pub const MAX_PAGES: usize = 100;
/// The time one listing may take, whatever each call's own timeout.
pub const MAX_LISTING_TIME: Duration = Duration::from_secs(40);

/// Counts the pages of one listing.
pub struct PageBound {
    what: String,
    pages: usize,
    started: Instant,
}

impl PageBound {
    /// `what` names the listing and the target, without credentials ("secrets of this install in
    /// AWS region eu-west-1 at http://…").
    pub fn new(what: impl Into<String>) -> PageBound {
        PageBound { what: what.into(), pages: 0, started: Instant::now() }
    }

    /// Call before fetching each page: an error once the listing went past its bound.
    pub fn next_page(&mut self) -> Result<(), ProviderError> {
        self.pages += 1;
        if self.pages > MAX_PAGES {
            return Err(ProviderError::Unavailable(format!(
                "listing {} went past {MAX_PAGES} pages and was stopped; the listing is incomplete",
                self.what
            )));
        }
        if self.started.elapsed() > MAX_LISTING_TIME {
            return Err(ProviderError::Unavailable(format!(
                "listing {} took longer than {} s and was stopped; the listing is incomplete",
                self.what,
                MAX_LISTING_TIME.as_secs()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_after_the_last_allowed_one_is_an_error_naming_the_target() {
        let mut bound = PageBound::new("secrets in project p");
        for _ in 0..MAX_PAGES {
            bound.next_page().unwrap();
        }
        let error = bound.next_page().unwrap_err();
        assert!(error.is_retryable());
        assert!(error.to_string().contains("secrets in project p"), "{error}");
        assert!(error.to_string().contains("incomplete"), "{error}");
    }
}
