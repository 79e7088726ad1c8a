//! Input rules shared by the browser (feedback while typing) and the server (the rule that counts).
//! The rules are the Seqera API's own.

use super::dashed_name::check_dashed_name;

/// `Organization.name` and `Workspace.name` in the Seqera OpenAPI spec: `^[a-zA-Z\d](?:[a-zA-Z\d]|
/// [-_](?=[a-zA-Z\d])){1,38}$`, so at most 39 characters (see `check_resource_name`).
const RESOURCE_NAME_MAX: usize = 39;
const FULL_NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 1000;
const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
/// Argon2 accepts more, but a cap keeps a single login from costing unbounded hashing input.
pub const PASSWORD_MAX: usize = 256;

/// Checks an organization or workspace short name; `what` names it in the message.
pub fn check_resource_name(what: &str, name: &str) -> Result<(), String> {
    // The spec says maxLength 40, but its pattern ({1,38} after the first character) stops at
    // 39: the pattern is what Seqera enforces, so it is what we say.
    check_dashed_name(what, name, RESOURCE_NAME_MAX, "genomics-lab")
}

pub fn check_full_name(what: &str, full_name: &str) -> Result<(), String> {
    let trimmed = full_name.trim();
    if trimmed.is_empty() {
        return Err(format!("The {what} full name is required."));
    }
    if trimmed.chars().count() > FULL_NAME_MAX {
        return Err(format!("The {what} full name can be at most {FULL_NAME_MAX} characters."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("The {what} full name cannot contain control characters."));
    }
    Ok(())
}

pub fn check_description(description: &str) -> Result<(), String> {
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(format!("The description can be at most {DESCRIPTION_MAX} characters."));
    }
    Ok(())
}

/// Emails are compared and stored lower-cased and trimmed.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn check_email(email: &str) -> Result<(), String> {
    let email = email.trim();
    if email.is_empty() {
        return Err("An email address is required.".into());
    }
    if email.len() > EMAIL_MAX || !email_address::EmailAddress::is_valid(email) {
        return Err("That does not look like an email address (expected name@example.org).".into());
    }
    // `email_address` accepts dot-less domains (RFC-valid, never a real user here) and quoted
    // local parts; refusing them catches the common typo `name@example`.
    let domain = email.rsplit('@').next().unwrap_or_default();
    if !domain.contains('.') || email.contains('"') {
        return Err("That does not look like an email address (expected name@example.org).".into());
    }
    Ok(())
}

/// Passwords seen most often in breach corpora; refusing them stops the first guesses of any
/// attacker. Compared case-insensitively.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "12345678",
    "123456789",
    "1234567890",
    "12341234",
    "11111111",
    "00000000",
    "87654321",
    "88888888",
    "qwertyui",
    "qwertyuiop",
    "qwerty123",
    "qwerty12",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "asdfghjk",
    "asdfasdf",
    "abcd1234",
    "abc12345",
    "abcdefgh",
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "trustno1",
    "superman",
    "starwars",
    "whatever",
    "computer",
    "michelle",
    "jennifer",
    "corvette",
    "mercedes",
    "internet",
    "changeme",
    "changeme1",
    "administrator",
    "admin123",
    "admin1234",
    "adminadmin",
    "rootroot",
    "secret123",
    "qazwsxedc",
    "monkey123",
    "dragon123",
    "master123",
    "shadow123",
    "hello123",
    "freedom1",
    "football1",
    "baseball1",
    "strongroom",
    "seqera123",
    "nextflow",
    "nextflow1",
];

pub fn check_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!("The password must have at least {PASSWORD_MIN} characters."));
    }
    if len > PASSWORD_MAX {
        return Err(format!("The password can have at most {PASSWORD_MAX} characters."));
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err("That password is one of the most common ones; choose another.".into());
    }
    if lowered.chars().all(|c| lowered.starts_with(c)) {
        return Err("The password cannot be one character repeated.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_follow_the_seqera_pattern() {
        for ok in ["ab", "genomics-lab", "lab_1", "A1", &"a".repeat(39)] {
            assert_eq!(check_resource_name("workspace", ok), Ok(()), "{ok}");
        }
        for bad in ["", "a", "-ab", "ab-", "a--b", "a-_b", "a b", "a.b", "ab_", &"a".repeat(40)] {
            assert!(check_resource_name("workspace", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn full_names_are_required_and_bounded() {
        assert!(check_full_name("workspace", "Genomics Lab").is_ok());
        assert!(check_full_name("workspace", "   ").is_err());
        assert!(check_full_name("workspace", &"x".repeat(101)).is_err());
        assert!(check_full_name("workspace", "a\u{0007}b").is_err());
    }

    #[test]
    fn emails_must_look_like_addresses() {
        assert!(check_email("ada@example.org").is_ok());
        assert!(check_email(" Ada@Example.org ").is_ok());
        for bad in ["", "ada", "ada@", "@example.org", "ada@example", "a da@example.org", "\"a\"@x.org"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(normalize_email(" Ada@Example.ORG "), "ada@example.org");
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(check_password("short1").unwrap_err().contains("at least 8"));
        assert!(check_password("Password123").unwrap_err().contains("common"));
        assert!(check_password("aaaaaaaaaa").is_err());
        assert!(check_password(&"x1".repeat(200)).unwrap_err().contains("at most"));
        assert!(check_password("correct horse battery staple").is_ok());
    }
}
