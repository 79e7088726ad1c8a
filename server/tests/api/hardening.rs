//! Issue 10, item 8: the client address behind trusted proxies, a sign-in limit one address
//! cannot use to lock everyone out, rate-limited attempts audited once per window, the
//! cross-site check against the public URL, and the rules for launch and trace input.

use crate::helpers::*;
use crate::runs::{create_secret, launch};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// Signs in through the form's server function; `Ok` when a session was started.
async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Result<(), StatusCode> {
    let mut request = client().post(app.url("/sfn/login")).form(&[("email", email), ("password", password)]);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    // Like the browser's server-function client: success is a Location to follow.
    if response.headers().contains_key("location") {
        Ok(())
    } else {
        Err(response.status())
    }
}

/// An audit entry's (actor, ip, outcome, detail).
type Entry = (String, String, String, String);

/// Every sign-in entry, oldest first.
async fn sign_in_entries(app: &TestApp) -> Vec<Entry> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let rows = sqlx::query_as(
        "SELECT actor, ip, outcome, detail FROM audit_log WHERE action = 'sign-in' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let app = spawn_app().await;
    app.setup_admin().await;
    assert!(sign_in(&app, ADMIN_EMAIL, "wrong password!", Some("198.51.100.7")).await.is_err());
    let behind_proxy = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.0/8".into()]).await;
    behind_proxy.setup_admin().await;
    // The client forged the first hop; the proxy appended the address it really saw.
    assert!(sign_in(&behind_proxy, ADMIN_EMAIL, "wrong password!", Some("6.6.6.6, 198.51.100.7"))
        .await
        .is_err());

    let failed = |entries: Vec<Entry>| {
        entries.into_iter().find(|(_, _, outcome, _)| outcome == "failed").expect("a failed sign-in")
    };
    assert_eq!(failed(sign_in_entries(&app).await).1, "127.0.0.1", "no trusted proxy: the header is ignored");
    assert_eq!(failed(sign_in_entries(&behind_proxy).await).1, "198.51.100.7");
}

#[tokio::test]
async fn an_address_hammering_one_account_locks_out_neither_the_account_nor_its_neighbours() {
    let app = spawn_app_with(|c| {
        c.login_attempts_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let admin = app.setup_admin().await;
    app.user(&admin, "bob@example.org").await;
    let attacker = Some("203.0.113.66");
    let mut refused = 0;
    for _ in 0..30 {
        if sign_in(&app, ADMIN_EMAIL, "wrong password!", attacker).await == Err(StatusCode::TOO_MANY_REQUESTS)
        {
            refused += 1;
        }
    }
    assert!(refused >= 25, "the attacker's address is limited: {refused}");
    // The account still opens from its owner's address, and a neighbour behind the attacker's
    // address still gets in to their own account.
    assert_eq!(sign_in(&app, ADMIN_EMAIL, PASSWORD, Some("198.51.100.1")).await, Ok(()));
    assert_eq!(sign_in(&app, "bob@example.org", PASSWORD, attacker).await, Ok(()));
}

#[tokio::test]
async fn rate_limited_sign_ins_are_audited_once_per_window_with_a_count() {
    let app = spawn_app_with(|c| {
        c.login_attempts_per_minute = 3;
        c.login_refusal_audit_secs = 5;
    })
    .await;
    app.setup_admin().await;
    for _ in 0..30 {
        assert!(sign_in(&app, ADMIN_EMAIL, "wrong password!", None).await.is_err());
    }
    let denied = |entries: Vec<Entry>| -> Vec<Entry> {
        entries.into_iter().filter(|(_, _, outcome, _)| outcome == "denied").collect()
    };
    let refused_count = |entries: &[Entry]| -> u64 {
        entries
            .iter()
            .map(|(_, _, _, detail)| {
                let count = detail.split(" refused").next().unwrap().rsplit(' ').next().unwrap();
                count.parse::<u64>().unwrap_or_else(|_| panic!("a count in {detail:?}"))
            })
            .sum()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let entries = loop {
        let entries = denied(sign_in_entries(&app).await);
        if refused_count(&entries) >= 27 || std::time::Instant::now() > deadline {
            break entries;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(refused_count(&entries), 27, "{entries:?}");
    assert!(entries.len() <= 2, "one entry per window, not one per attempt: {entries:?}");
    let (actor, ip, _, detail) = &entries[0];
    assert_eq!((actor.as_str(), ip.as_str()), (ADMIN_EMAIL, "127.0.0.1"));
    assert!(detail.starts_with("too many attempts"), "{detail}");
    assert_eq!(denied(sign_in_entries(&app).await).len(), entries.len(), "nothing more after the window");
}

/// A client that holds a session cookie and sends only what the test adds (no fetch metadata).
async fn bare_cookie_client(app: &TestApp) -> (Client, String) {
    let cookie = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    let mut headers = HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    (Client::builder().default_headers(headers).build().unwrap(), cookie)
}

#[tokio::test]
async fn cookie_writes_need_the_public_origin_or_same_origin_fetch_metadata() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let (bare, _) = bare_cookie_client(&app).await;
    let create = |name: &str| bare.post(app.url("/api/tokens")).json(&json!({ "name": name }));

    let response = create("none").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "neither Origin nor Sec-Fetch-Site");
    assert!(response.text().await.unwrap().contains("access token"), "the refusal says what to do");
    assert_eq!(
        create("cross").header("sec-fetch-site", "cross-site").send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // DNS rebinding: Origin and Host agree with each other but not with the public URL.
    let rebound = create("rebound").header("host", "evil.example").header("origin", "http://evil.example");
    assert_eq!(rebound.send().await.unwrap().status(), StatusCode::FORBIDDEN);

    assert_eq!(create("origin").header("origin", app.url("")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        create("fetch").header("sec-fetch-site", "same-origin").send().await.unwrap().status(),
        StatusCode::OK
    );
    // Reads need neither, and a bearer token (no cookie) is not a cross-site risk.
    assert_eq!(bare.get(app.url("/api/tokens")).send().await.unwrap().status(), StatusCode::OK);
    let created: Value =
        create("cli").header("origin", app.url("")).send().await.unwrap().json().await.unwrap();
    let cli = client_with_bearer(created["accessKey"].as_str().unwrap());
    let (status, _) = app.send_json(&cli, Method::POST, "/api/tokens", json!({ "name": "from-cli" })).await;
    assert_eq!(status, StatusCode::OK);
}

async fn message(response: (StatusCode, Value)) -> (StatusCode, String) {
    (response.0, response.1["message"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn launch_input_gets_length_and_character_rules() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    create_secret(&app, &admin, Some(ws), "KNOWN", "x1").await;

    for pipeline in ["-resume", "--help", "file:///etc/passwd", "nf-core/-x", "owner/repo;id"] {
        let (status, text) = message(launch(&app, &admin, ws, json!({ "pipeline": pipeline })).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pipeline}");
        assert!(text.contains("repository URL"), "{pipeline}: {text}");
    }
    for revision in ["--upload-pack=touch /tmp/x", "-x", "a..b", &"r".repeat(101), "main;id"] {
        let body = json!({ "pipeline": "nf-core/demo", "revision": revision });
        let (status, text) = message(launch(&app, &admin, ws, body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{revision}");
        assert!(text.contains("revision"), "{revision}: {text}");
    }
    let (status, text) =
        message(launch(&app, &admin, ws, json!({ "pipeline": "p", "runName": "-name" })).await).await;
    assert!(status == StatusCode::BAD_REQUEST && text.contains("run name"), "{text}");
    // Good input still launches.
    let body = json!({
        "pipeline": "https://github.com/nf-core/demo",
        "revision": "v1.0.0",
        "workspaceSecrets": ["KNOWN"],
    });
    let (status, body) = launch(&app, &admin, ws, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_secret_cap_is_checked_before_any_name_is_looked_up() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let names: Vec<String> = (0..201).map(|i| format!("NO_SUCH_{i}")).collect();
    let body = json!({ "pipeline": "nf-core/demo", "workspaceSecrets": names });
    let (status, text) = message(launch(&app, &admin, ws, body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(text, "A launch can take up to 200 secrets.", "not a lookup of each name");
}

#[tokio::test]
async fn trace_reports_get_the_same_rules() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let (_, token) = app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "nextflow" })).await;
    let nextflow = client_with_bearer(token["accessKey"].as_str().unwrap());
    let create = format!("/api/trace/create?workspaceId={ws}");
    let session = "1b6a3f3e-6f3c-4c1e-9a57-0c2d1f6f3a10";
    let refused = [
        (json!({ "runName": "bad name", "sessionId": session }), "run name"),
        (json!({ "runName": "-x", "sessionId": session }), "run name"),
        (json!({ "runName": "ok", "projectName": "p".repeat(201), "sessionId": session }), "project name"),
        (json!({ "runName": "ok", "projectName": "a\u{1b}[31mred", "sessionId": session }), "project name"),
        (json!({ "runName": "ok", "sessionId": "not-a-uuid" }), "session id"),
        (json!({ "runName": "ok", "sessionId": "x".repeat(5000) }), "session id"),
    ];
    for (body, rule) in refused {
        let (status, text) =
            message(app.send_json(&nextflow, Method::POST, &create, body.clone()).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(text.contains(rule), "{body}: {text}");
    }
    let body = json!({ "runName": "evil_pasteur", "projectName": "nf-core/demo", "sessionId": session });
    let (status, created) = app.send_json(&nextflow, Method::POST, &create, body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
}
