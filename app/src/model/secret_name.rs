//! The pipeline secret name rule, exactly as Seqera's OpenAPI (`PipelineSecret.name`) and
//! Nextflow's `SecretsHelper.checkName` state it. The same code checks names in the browser while
//! the user types and on the server, where it counts.
//!
//! The pattern (a backreference and a negative look-ahead) is matched by hand, not by a regex
//! engine: the rule is a few lines of logic, and `fancy-regex` was about a seventh of the
//! browser's WASM code. The tests below and the `secret_name` fuzz target hold the hand-written
//! matcher to the pattern on `fancy-regex`.

/// The rule as Seqera and Nextflow write it; `matches_secret_pattern` is what runs.
pub const SECRET_NAME_PATTERN: &str = r"^[a-zA-Z_](?:[0-9A-Za-z]+|(_)(?!\1)){1,49}$";
pub const SECRET_NAME_MAX: usize = 100;
/// AWS Secrets Manager and Google Secret Manager both cap a value at 64 KiB.
pub const SECRET_VALUE_MAX: usize = 64 * 1024;

/// Whether `name` matches `SECRET_NAME_PATTERN`: a letter or `_`, then 1 to 49 pieces, each a
/// run of ASCII letters and digits or one `_` not followed by another `_`. The regex may split a
/// run into several pieces but never joins two, so the fewest pieces is what must fit.
pub fn matches_secret_pattern(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else { return false };
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return false;
    }
    if !rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') || rest.windows(2).any(|w| w == b"__") {
        return false;
    }
    // A piece starts at every `_` and at every letter or digit that does not follow one.
    let pieces = (0..rest.len()).filter(|&i| rest[i] == b'_' || i == 0 || rest[i - 1] == b'_').count();
    (1..=49).contains(&pieces)
}

pub fn check_secret_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("A secret name is required.".into());
    }
    if name.len() > SECRET_NAME_MAX {
        return Err(format!("A secret name can have at most {SECRET_NAME_MAX} characters."));
    }
    if name.starts_with("__") {
        return Err("A secret name cannot start with two underscores (Nextflow reserves them).".into());
    }
    if !matches_secret_pattern(name) {
        return Err("Use letters, digits and single underscores, starting with a letter or '_', at least 2 \
             characters (for example DB_PASSWORD). No '-', '.', spaces or '__'."
            .into());
    }
    Ok(())
}

pub fn check_secret_value_len(len: usize) -> Result<(), String> {
    if len == 0 {
        return Err("A secret value cannot be empty.".into());
    }
    if len > SECRET_VALUE_MAX {
        return Err(format!("A secret value can be at most {} KiB.", SECRET_VALUE_MAX / 1024));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seqera_and_nextflow_rule() {
        let ok = ["AB", "A_B", "_A", "A_", "DB_PASSWORD", "a1", "_a_b_c", "Ab9_x"];
        for name in ok {
            assert_eq!(check_secret_name(name), Ok(()), "{name}");
        }
        let refused = ["", "A", "A__B", "MY-SECRET", "1ABC", "__A", "A.B", "A B", "é1", "A\nB", "_", "__"];
        for name in refused {
            assert!(check_secret_name(name).is_err(), "{name:?} must be refused");
        }
    }

    #[test]
    fn at_most_49_runs_after_the_first_character() {
        // "A" + 49 runs of "_B"-like alternations: each "_" and each letter run counts as one.
        let fits = format!("A{}", "_B".repeat(24)); // 48 runs
        assert_eq!(check_secret_name(&fits), Ok(()), "{fits}");
        let too_many = format!("A{}", "_B".repeat(25)); // 50 runs
        assert!(check_secret_name(&too_many).is_err());
        // One long run is a single repetition, limited only by the 100-character cap.
        assert_eq!(check_secret_name(&"A".repeat(100)), Ok(()));
        assert!(check_secret_name(&"A".repeat(101)).is_err());
    }

    #[test]
    fn the_matcher_agrees_with_the_pattern() {
        use crate::model::dashed_name::tests::all_strings;
        let regex = fancy_regex::Regex::new(SECRET_NAME_PATTERN).unwrap();
        let agrees = |name: &str| {
            let expected = regex.is_match(name).unwrap();
            assert_eq!(matches_secret_pattern(name), expected, "{name:?}");
        };
        for name in all_strings(&['A', 'z', '0', '_', '-', ' ', 'é'], 6) {
            agrees(&name);
        }
        // Around the 49-piece limit, and long single runs.
        for n in 22..27 {
            agrees(&format!("A{}", "_B".repeat(n)));
            agrees(&format!("_{}", "b_".repeat(n)));
            agrees(&format!("A{}_", "1_".repeat(n)));
        }
        agrees(&"A".repeat(100));
        agrees(&format!("_{}", "a".repeat(200)));
    }

    #[test]
    fn a_long_run_before_a_refused_character_is_refused_at_once() {
        // Found by the `secret_name` fuzz target: Seqera's pattern tries every way to split the
        // run into pieces before it fails, past the regex engine's backtrack limit (1,000,000
        // steps), which the browser and the server used to spend on such a name.
        let name = "yzzzzzzzzzzzzzzzzzzz:";
        assert!(fancy_regex::Regex::new(SECRET_NAME_PATTERN).unwrap().is_match(name).is_err());
        assert!(!matches_secret_pattern(name));
        assert!(check_secret_name(&format!("{}:", "z".repeat(99))).is_err());
    }

    #[test]
    fn values_are_one_byte_to_64_kib() {
        assert!(check_secret_value_len(0).is_err());
        assert!(check_secret_value_len(1).is_ok());
        assert!(check_secret_value_len(64 * 1024).is_ok());
        assert!(check_secret_value_len(64 * 1024 + 1).is_err());
    }
}
