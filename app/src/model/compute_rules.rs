//! The name rule for compute environments and credentials, shared by the browser (feedback while
//! typing) and the server (the rule that counts).

use super::dashed_name::check_dashed_name;

/// Seqera's rule for compute environment and credentials names (`^[a-zA-Z\d](?:[a-zA-Z\d]|[-_]
/// (?=[a-zA-Z\d])){1,99}$`): letters or digits, single `-` or `_` between them, 2 to 100
/// characters.
const NAME_MAX: usize = 100;

/// Checks the name of a compute environment or of credentials; `what` names it in the message.
pub fn check_compute_name(what: &str, name: &str) -> Result<(), String> {
    check_dashed_name(what, name, NAME_MAX, "aws-prod")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_seqeras_pattern() {
        for ok in ["ab", "aws-prod", "AWS_1", "local", &"a".repeat(100)] {
            assert!(check_compute_name("credentials", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-ab", "ab-", "a--b", "a b", "a.b", &"a".repeat(101)] {
            assert!(check_compute_name("credentials", bad).is_err(), "{bad}");
        }
    }
}
