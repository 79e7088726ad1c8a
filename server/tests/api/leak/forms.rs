//! The forms a leaked value may take, for the widened scan: as is, base64, base64url, hex,
//! URL-encoded and JSON-escaped. Canaries carry characters that each encoding changes (quote,
//! backslash, slash, plus, equals, ampersand, a space, a non-ASCII letter) around a random core,
//! and the core is searched on its own too, so a value cut short or re-quoted is still found.

use base64::Engine;

/// A random canary: `cnry<32 hex>` and then characters the encodings change. `spaces` false for
/// fields that refuse spaces (an AWS secret access key).
pub fn canary(spaces: bool) -> String {
    let core = format!("cnry{}", uuid::Uuid::new_v4().simple());
    if spaces {
        format!("{core}\"\\/+=& é")
    } else {
        format!("{core}/+=&")
    }
}

/// A control canary whose encodings survive being put in JSON or HTML text as they are (no
/// quote, backslash, `<` or `&`), so a control planted in a response is found in every form.
pub fn control_canary() -> String {
    format!("ctrl{}/+= é", uuid::Uuid::new_v4().simple())
}

/// The random core of a canary (`cnry` and 32 hex digits).
pub fn core(canary: &str) -> &str {
    &canary[..36]
}

fn percent(value: &str, space_as_plus: bool) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' if space_as_plus => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The named encodings of the scan, each with the variants it covers.
pub const ENCODINGS: [&str; 6] = ["raw", "base64", "base64url", "hex", "url-encoded", "json-escaped"];

/// Every form of `value` to search for, by encoding name.
pub fn forms(value: &str) -> Vec<(&'static str, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = serde_json::to_string(value).unwrap();
    let mut forms = vec![
        ("raw", value.to_string()),
        ("base64", b64.encode(value)),
        ("base64url", b64url.encode(value)),
        ("hex", hex::encode(value)),
        ("hex", hex::encode_upper(value)),
        ("url-encoded", percent(value, false)),
        ("url-encoded", percent(value, true)),
        ("json-escaped", json[1..json.len() - 1].to_string()),
    ];
    if value.starts_with("cnry") {
        let core = core(value);
        // The core alone, and its encodings (base64 of the core is a prefix of the value's).
        forms.push(("raw", core.to_string()));
        forms.push(("hex", hex::encode(core)));
        forms.push(("base64", b64.encode(&core[..33]).trim_end_matches('=').to_string()));
        forms.push(("base64url", b64url.encode(&core[..33])));
    }
    forms.sort();
    forms.dedup();
    forms
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn every_encoding_changes_a_canary_and_each_is_searched() {
    let value = canary(true);
    let forms = forms(&value);
    for encoding in ENCODINGS {
        assert!(forms.iter().any(|(name, _)| *name == encoding), "{encoding} is searched");
    }
    // Apart from the raw value and its core, no form equals the raw value: each is a search of
    // its own.
    let distinct = forms.iter().filter(|(_, form)| form != &value && form != core(&value)).count();
    assert!(distinct >= 8, "{forms:?}");
    assert_eq!(percent("a b/é", false), "a%20b%2F%C3%A9");
    assert!(contains(b"xx\\\"yy", "\\\""));
}
