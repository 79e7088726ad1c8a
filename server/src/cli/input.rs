//! Reading secrets (passwords, secret values) from a file or standard input: never from a
//! command-line argument, and straight into a `SecretString`.

use anyhow::Context;
use secrecy::SecretString;
use std::io::Read;
use std::path::Path;

/// Reads a secret from a file or standard input (`-`), dropping one trailing newline (what `echo`
/// and editors add) but nothing else.
pub fn read_secret(path: &Path) -> anyhow::Result<SecretString> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).context("could not read standard input")?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    }
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn one_trailing_newline_is_dropped_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for (content, expected) in
            [("v\n", "v"), ("v\r\n", "v"), ("v\n\n", "v\n"), ("  v  ", "  v  "), ("a\nb", "a\nb")]
        {
            let path = dir.path().join("value");
            std::fs::write(&path, content).unwrap();
            assert_eq!(read_secret(&path).unwrap().expose_secret(), expected, "{content:?}");
        }
        let missing = read_secret(&dir.path().join("absent")).unwrap_err();
        assert!(format!("{missing:#}").contains("could not read"));
    }
}
