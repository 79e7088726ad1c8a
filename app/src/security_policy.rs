//! The Content-Security-Policy of a page. Scripts run only from this site or with the nonce
//! Leptos gave this response's hydration and streaming scripts (fresh per response), WebAssembly
//! may compile (`'wasm-unsafe-eval'`) and nothing wider: no inline script without the nonce, no
//! `eval`, no plugins, no `<base>` rewriting, no framing by other sites.

/// The policy for a page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    [
        "default-src 'self'",
        &format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
    .join("; ")
}

/// Sends the page's policy as a header. Called by the shell on the server, where the nonce and
/// the response are known; the server's `browser_headers` middleware gives every other answer a
/// stricter one.
pub fn send_page_policy() {
    use http::header::{HeaderValue, CONTENT_SECURITY_POLICY};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce.to_string())) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::page_policy;

    #[test]
    fn scripts_need_the_nonce_or_this_site_and_nothing_is_wider() {
        let policy = page_policy("abc");
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{directive}");
        }
        assert!(!policy.contains("'unsafe-inline'") && !policy.contains("'unsafe-eval'"));
    }
}
