//! The headers that tell a browser how little to trust and keep, on every response.
//!
//! - Pages carry a Content-Security-Policy whose script nonce is fresh per response: the app's
//!   shell sets it (`app::security_policy`), since only the render knows the nonce Leptos put on
//!   its hydration scripts. Every other answer (REST, server functions, health, static files)
//!   gets a policy that allows nothing to run and nothing to frame it.
//! - `nosniff`, `Referrer-Policy: no-referrer` (URLs carry workspace and run ids) and
//!   `Cross-Origin-Opener-Policy: same-origin` everywhere; HSTS when the public URL is https.
//! - `Cache-Control: no-store` on everything but the compiled site files under `/pkg/`, the
//!   icon and the OIDC issuer's public documents under `/.well-known/`: pages and API answers list secrets, tokens and members, which no cache may keep. Those
//!   files carry the policy `site_files` gave them (immutable when their name is their content
//!   hash), or `no-store` too when there was none (the 404 page for a missing file).

use crate::http::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// For answers that are not pages: nothing may run, load or frame them.
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

const CROSS_ORIGIN_OPENER_POLICY: HeaderName = HeaderName::from_static("cross-origin-opener-policy");

/// Two years, the preload list's minimum; only sent when the public URL is https.
const HSTS: &str = "max-age=63072000; includeSubDomains";

pub async fn browser_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cacheable = is_site_file(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, REFERRER_POLICY, "no-referrer");
    set(headers, CROSS_ORIGIN_OPENER_POLICY, "same-origin");
    // A page's own policy (with its nonce) was set by the shell; anything else gets the strictest.
    set(headers, CONTENT_SECURITY_POLICY, NON_PAGE_POLICY);
    if !cacheable || !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.domain.core.public_url.starts_with("https://") {
        set(headers, STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}

/// The compiled site (WASM, JS, CSS), the icon and the issuer's discovery document and public
/// keys: the same for everyone, safe to cache.
fn is_site_file(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == "/favicon.svg"
        || path == "/.well-known/openid-configuration"
        || path == "/.well-known/jwks.json"
}

#[cfg(test)]
mod tests {
    use super::is_site_file;

    #[test]
    fn only_the_compiled_site_and_the_icon_may_be_cached() {
        assert!(is_site_file("/pkg/strongroom.wasm"));
        assert!(is_site_file("/favicon.svg"));
        assert!(is_site_file("/.well-known/jwks.json"));
        for path in [
            "/",
            "/api/pipeline-secrets",
            "/sfn/list_secrets",
            "/workspaces/1/secrets",
            "/pkgx",
            "/.well-known/x",
        ] {
            assert!(!is_site_file(path), "{path}");
        }
    }
}
