//! The secret name rule (`app::model::check_secret_name`, a regex with a
//! backreference and a look-ahead on `fancy-regex`) against a plain reading of the same rule:
//! they must agree on every input, so the regex engine's backtrack limit can never refuse a valid
//! name or accept an invalid one.

#![no_main]

use app::model::{check_secret_name, SECRET_NAME_MAX};
use libfuzzer_sys::fuzz_target;

/// `^[a-zA-Z_](?:[0-9A-Za-z]+|(_)(?!\1)){1,49}$`, read by hand: a letter or `_`, then 1 to 49
/// pieces, each a run of letters and digits or one `_` not followed by another `_`; plus the
/// product's own limits (at most `SECRET_NAME_MAX` bytes, no leading `__`).
fn plain_rule(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else { return false };
    if bytes.len() > SECRET_NAME_MAX || name.starts_with("__") {
        return false;
    }
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return false;
    }
    if !rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') || rest.windows(2).any(|w| w == b"__") {
        return false;
    }
    // The fewest pieces the rest splits into: each `_` is one, each run of letters and digits
    // is one (the regex may split a run further, never join two).
    let mut pieces = 0;
    let mut in_run = false;
    for b in rest {
        if *b == b'_' {
            pieces += 1;
            in_run = false;
        } else if !in_run {
            pieces += 1;
            in_run = true;
        }
    }
    (1..=49).contains(&pieces)
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else { return };
    let accepted = check_secret_name(name).is_ok();
    assert_eq!(accepted, plain_rule(name), "the name rule and its plain reading disagree on {name:?}");
});
