//! The pipeline secret name rule, exactly as Seqera's OpenAPI (`PipelineSecret.name`) and
//! Nextflow's `SecretsHelper.checkName` state it. The pattern uses a backreference and a negative
//! look-ahead, so it runs on `fancy-regex`; the same code checks names in the browser while the
//! user types and on the server, where it counts.

use fancy_regex::Regex;
use std::sync::OnceLock;

pub const SECRET_NAME_PATTERN: &str = r"^[a-zA-Z_](?:[0-9A-Za-z]+|(_)(?!\1)){1,49}$";
pub const SECRET_NAME_MAX: usize = 100;
/// AWS Secrets Manager and Google Secret Manager both cap a value at 64 KiB.
pub const SECRET_VALUE_MAX: usize = 64 * 1024;

fn secret_name_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(SECRET_NAME_PATTERN).expect("valid pattern"))
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
    // A regex engine error (backtrack limit) is treated as a refusal: never accept by accident.
    if !matches!(secret_name_regex().is_match(name), Ok(true)) {
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
    fn values_are_one_byte_to_64_kib() {
        assert!(check_secret_value_len(0).is_err());
        assert!(check_secret_value_len(1).is_ok());
        assert!(check_secret_value_len(64 * 1024).is_ok());
        assert!(check_secret_value_len(64 * 1024 + 1).is_err());
    }
}
