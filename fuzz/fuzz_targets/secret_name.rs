//! The secret name rule (`app::model::check_secret_name`, whose pattern is matched by hand)
//! against the pattern itself on a regex engine (`fancy-regex`, with its backreference and
//! look-ahead): they must agree on every input, so the hand-written matcher can never refuse a
//! valid name or accept an invalid one.

#![no_main]

use app::model::{check_secret_name, SECRET_NAME_MAX, SECRET_NAME_PATTERN};
use fancy_regex::{Error, Regex, RuntimeError};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The rule as Seqera and Nextflow write it, plus the product's own limits (at most
/// `SECRET_NAME_MAX` bytes, no leading `__`).
fn written_rule(name: &str) -> bool {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    static POSSESSIVE: OnceLock<Regex> = OnceLock::new();
    if name.len() > SECRET_NAME_MAX || name.starts_with("__") {
        return false;
    }
    let pattern = PATTERN.get_or_init(|| Regex::new(SECRET_NAME_PATTERN).expect("valid pattern"));
    match pattern.is_match(name) {
        Ok(matched) => matched,
        // The pattern may split a run of letters and digits into pieces in exponentially many
        // ways, and tries them all before it fails: this target found `yzzzzzzzzzzzzzzzzzzz:`,
        // 21 bytes, past the engine's backtrack limit (the product checked names on this engine
        // until then). Where the engine gives up, the verdict is the same pattern's with runs
        // taken whole (`++`), which matches exactly when it does: splitting a run only adds
        // pieces, and the fewest pieces is the best chance to fit in 49.
        Err(Error::RuntimeError(RuntimeError::BacktrackLimitExceeded)) => {
            let whole_runs = SECRET_NAME_PATTERN.replace("]+|", "]++|");
            assert_ne!(whole_runs, SECRET_NAME_PATTERN, "the pattern's run is where it was");
            let possessive = POSSESSIVE.get_or_init(|| Regex::new(&whole_runs).expect("valid pattern"));
            possessive.is_match(name).expect("no backtracking left to exceed")
        }
        Err(other) => panic!("the pattern failed on {name:?}: {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else { return };
    let accepted = check_secret_name(name).is_ok();
    assert_eq!(accepted, written_rule(name), "the name rule and its pattern disagree on {name:?}");
});
