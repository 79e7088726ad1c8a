//! Seqera's rule for short names (organizations, workspaces, compute environments, credentials),
//! `^[a-zA-Z\d](?:[a-zA-Z\d]|[-_](?=[a-zA-Z\d])){1,N}$`, matched by hand: the rule is a few lines
//! of logic, and a regex engine for it was about a seventh of the browser's WASM code. The
//! equivalence with the pattern is tested below against `fancy-regex`.
//!
//! `\d` is read as ASCII `0-9`, as Java's regex (Seqera's) reads it; a Unicode regex engine would
//! also let through other scripts' digits.

/// Whether `name` is `max_chars` characters or fewer, at least 2, made of ASCII letters and
/// digits with single `-` or `_` between them (never first, last, or two in a row).
pub(crate) fn is_dashed_name(name: &str, max_chars: usize) -> bool {
    let bytes = name.as_bytes();
    // Every accepted character is ASCII, so bytes are characters here.
    if bytes.len() < 2 || bytes.len() > max_chars || !bytes[0].is_ascii_alphanumeric() {
        return false;
    }
    bytes.iter().enumerate().all(|(i, b)| match b {
        b'-' | b'_' => bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric),
        _ => b.is_ascii_alphanumeric(),
    })
}

/// The rule's check with its messages: `what` names the thing, `example` is a name that fits.
pub(crate) fn check_dashed_name(
    what: &str,
    name: &str,
    max_chars: usize,
    example: &str,
) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("The {what} name is required."));
    }
    if name.chars().count() > max_chars {
        return Err(format!("The {what} name can be at most {max_chars} characters."));
    }
    if is_dashed_name(name, max_chars) {
        return Ok(());
    }
    Err(format!(
        "The {what} name must be 2 to {max_chars} letters or digits, with single '-' or '_' between them \
         (for example: {example})."
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Seqera's pattern with `{1,max - 1}`, `\d` spelled out as Java reads it, on `fancy-regex`.
    pub(crate) fn seqera_pattern(max_chars: usize) -> fancy_regex::Regex {
        let pattern = format!(r"^[a-zA-Z0-9](?:[a-zA-Z0-9]|[-_](?=[a-zA-Z0-9])){{1,{}}}$", max_chars - 1);
        fancy_regex::Regex::new(&pattern).unwrap()
    }

    /// Every string of up to `len` characters over `alphabet`, the empty one included.
    pub(crate) fn all_strings(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn agrees_with_the_pattern_on_every_short_string() {
        let alphabet = ['a', 'Z', '7', '-', '_', '.', ' ', 'é', '٣'];
        for max in [3, 39, 100] {
            let regex = seqera_pattern(max);
            for name in all_strings(&alphabet, 5) {
                let expected = regex.is_match(&name).unwrap();
                assert_eq!(is_dashed_name(&name, max), expected, "{name:?} with at most {max}");
            }
        }
    }

    #[test]
    fn agrees_with_the_pattern_at_the_length_limits() {
        for max in [39, 100] {
            let regex = seqera_pattern(max);
            for len in [max - 1, max, max + 1] {
                let plain = "a".repeat(len);
                let dashed = format!("{}b", "a-".repeat((len - 1) / 2));
                let ends_dashed = format!("{}-", "a".repeat(len - 1));
                for name in [plain, dashed, ends_dashed] {
                    let expected = regex.is_match(&name).unwrap();
                    assert_eq!(is_dashed_name(&name, max), expected, "{name:?} with at most {max}");
                }
            }
        }
    }

    #[test]
    fn other_scripts_digits_are_refused() {
        assert!(is_dashed_name("ab7", 39));
        assert!(!is_dashed_name("ab٣", 39), "Arabic-Indic three");
        assert!(!is_dashed_name("ab７", 39), "full-width seven");
    }
}
