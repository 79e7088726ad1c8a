//! The secret name rule (`app::model::check_secret_name`, whose pattern is matched by hand)
//! against the pattern itself on a regex engine (`fancy-regex`, with its backreference and
//! look-ahead): they must agree on every input, so the hand-written matcher can never refuse a
//! valid name or accept an invalid one.

#![no_main]

use app::model::{check_secret_name, SECRET_NAME_MAX, SECRET_NAME_PATTERN};
use fancy_regex::Regex;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The rule as Seqera and Nextflow write it, plus the product's own limits (at most
/// `SECRET_NAME_MAX` bytes, no leading `__`).
fn written_rule(name: &str) -> bool {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| Regex::new(SECRET_NAME_PATTERN).expect("valid pattern"));
    if name.len() > SECRET_NAME_MAX || name.starts_with("__") {
        return false;
    }
    // At most 100 bytes: far below the engine's backtrack limit.
    pattern.is_match(name).expect("within the backtrack limit")
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else { return };
    let accepted = check_secret_name(name).is_ok();
    assert_eq!(accepted, written_rule(name), "the name rule and its pattern disagree on {name:?}");
});
