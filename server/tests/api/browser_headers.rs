//! The browser security headers: a page's Content-Security-Policy carries a fresh nonce that
//! matches its own scripts and allows nothing wider; every answer says `nosniff`, sends no
//! referrer and keeps its window to itself; nothing but the compiled site may be cached; HSTS
//! only when the public URL is https.

use crate::helpers::*;
use reqwest::header::HeaderMap;
use reqwest::Client;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// A page's policy and the nonce its script-src names.
async fn page(app: &TestApp, client: &Client, path: &str) -> (HeaderMap, String, String) {
    let response = app.get(client, path).await;
    assert!(response.status().is_success(), "{path}: {}", response.status());
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let policy = header(&headers, "content-security-policy");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("{path}: no nonce in {policy:?}"))
        .to_string();
    (headers, body, nonce)
}

#[tokio::test]
async fn a_page_policy_has_a_fresh_nonce_that_its_own_scripts_carry_and_nothing_wider() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&admin, "headers").await;
    let secrets_page = format!("/orgs/{org}/workspaces/{ws}/secrets");
    let (headers, body, nonce) = page(&app, &admin, &secrets_page).await;
    let policy = header(&headers, "content-security-policy");
    // 128 bits, base64url without padding.
    assert_eq!(nonce.len(), 22, "{nonce}");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "the page's scripts carry the nonce");
    let script_src = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert_eq!(script_src.trim(), format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"));
    for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"), "{policy}");
    // A page that lists secrets is never stored.
    assert_eq!(header(&headers, "cache-control"), "no-store");

    let (_, _, again) = page(&app, &admin, &secrets_page).await;
    assert_ne!(nonce, again, "every response has its own nonce");
    let (_, login_body, login_nonce) = page(&app, &client(), "/login").await;
    assert!(login_body.contains(&format!("nonce=\"{login_nonce}\"")));
}

#[tokio::test]
async fn every_answer_has_the_browser_headers_and_only_the_compiled_site_may_be_cached() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "headers").await;
    let api = format!("/api/pipeline-secrets?workspaceId={ws}");
    for (client, path) in [(&admin, api.as_str()), (&client(), "/health"), (&client(), api.as_str())] {
        let response = app.get(client, path).await;
        let headers = response.headers();
        assert_eq!(header(headers, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header(headers, "cross-origin-opener-policy"), "same-origin", "{path}");
        assert_eq!(header(headers, "cache-control"), "no-store", "{path}");
        let policy = header(headers, "content-security-policy");
        assert!(policy.starts_with("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
        assert!(headers.get("strict-transport-security").is_none(), "no HSTS over plain http");
    }
    // An error page is a page too: its own policy, not stored.
    let response = app.get(&admin, "/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert_eq!(header(response.headers(), "cache-control"), "no-store");
    assert!(header(response.headers(), "content-security-policy").contains("'nonce-"));
}

#[tokio::test]
async fn an_https_public_url_turns_on_hsts() {
    let app = spawn_app_with(|config| config.public_url = "https://strongroom.example.org".into()).await;
    let response = app.get(&client(), "/health").await;
    assert_eq!(
        header(response.headers(), "strict-transport-security"),
        "max-age=63072000; includeSubDomains"
    );
}
