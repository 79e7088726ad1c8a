//! Browser sessions: ids with at least 128 random bits, a new id at every sign-in (an id the
//! browser had before is never kept), ids that stop working at sign-out, at a password change
//! (the user's other sessions) and when an instance administrator disables the user, and cookie
//! flags that keep the id away from scripts and other sites.

use crate::helpers::*;
use base64::Engine;
use futures_util::StreamExt;
use reqwest::StatusCode;
use std::collections::BTreeSet;

/// `name=value` → `value`.
fn id_of(cookie: &str) -> &str {
    cookie.split_once('=').unwrap().1
}

/// The status of `GET /api/user-info` and the email it names, with this session cookie.
async fn who(app: &TestApp, cookie: &str) -> (StatusCode, String) {
    let (status, info) = app.get_json(&client_with_cookie(cookie), "/api/user-info").await;
    (status, info["user"]["email"].as_str().unwrap_or_default().to_string())
}

async fn is_dead(app: &TestApp, cookie: &str) -> bool {
    let api = app.get_with_cookie(cookie, "/api/user-info").await;
    let page = app.get(&client_with_cookie(cookie), "/account").await;
    // A signed-out visitor goes to the login page, which brings them back here once signed in.
    let to_login = page.headers().get("location").is_some_and(|l| l == "/login?next=%2Faccount");
    match (api, to_login) {
        (StatusCode::UNAUTHORIZED, true) => true,
        (StatusCode::OK, false) => false,
        other => panic!("the API and the pages disagree about this session: {other:?}"),
    }
}

#[tokio::test]
async fn a_thousand_sign_ins_give_a_thousand_unguessable_ids() {
    let app = spawn_app_with(|c| c.login_attempts_per_minute = 100_000).await;
    app.setup_admin().await;
    let cookies: Vec<String> = futures_util::stream::iter(0..1000)
        .map(|_| app.login_cookie(ADMIN_EMAIL, PASSWORD))
        .buffer_unordered(4)
        .collect()
        .await;
    let ids: BTreeSet<&str> = cookies.iter().map(|c| id_of(c)).collect();
    assert_eq!(ids.len(), 1000, "session ids repeat");
    let mut ones: Vec<u32> = Vec::new();
    for id in &ids {
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).expect("URL-safe base64");
        assert!(bytes.len() * 8 >= 128, "{id}: {} bits", bytes.len() * 8);
        ones.resize(bytes.len() * 8, 0);
        for (bit, count) in ones.iter_mut().enumerate() {
            *count += u32::from(bytes[bit / 8] >> (bit % 8) & 1);
        }
    }
    // Random bits are set about half the time: 500 ± 16 (one standard deviation) of 1,000. A
    // counter, a clock or a constant part would leave bits far outside 380..=620 (7.6 deviations).
    let skewed: Vec<(usize, u32)> =
        ones.iter().copied().enumerate().filter(|(_, n)| !(380..=620).contains(n)).collect();
    assert!(skewed.is_empty(), "bits that are not random (position, times set of 1000): {skewed:?}");
    // The database keeps a hash, never the id itself.
    let stored = super::db_dump::dump(&app).await.remove("sessions").unwrap().join("\n");
    assert!(ids.iter().all(|id| !stored.contains(id)), "a session id is stored as it is");
    println!("session ids: {} sampled, {} bits each, all distinct", ids.len(), ones.len());
}

#[tokio::test]
async fn an_id_the_browser_had_before_sign_in_is_never_kept() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user(&admin, "victim@example.org").await;
    app.user(&admin, "mallory@example.org").await;
    let form = [("email", "victim@example.org"), ("password", PASSWORD)];

    // An id the attacker made up, planted in the victim's browser before sign-in.
    let planted = format!("strongroom_session={}", "A".repeat(43));
    let response = app.sfn(&client_with_cookie(&planted), "login", &form).await;
    let issued = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(id_of(&issued), id_of(&planted), "the planted id was kept");
    assert_eq!(who(&app, &planted).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(who(&app, &issued).await, (StatusCode::OK, "victim@example.org".into()));

    // The attacker's own live session, planted: the victim's sign-in neither reuses nor upgrades it.
    let mallory = app.login_cookie("mallory@example.org", PASSWORD).await;
    let response = app.sfn(&client_with_cookie(&mallory), "login", &form).await;
    let issued = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(id_of(&issued), id_of(&mallory));
    assert_eq!(who(&app, &mallory).await, (StatusCode::OK, "mallory@example.org".into()));
    assert_eq!(who(&app, &issued).await, (StatusCode::OK, "victim@example.org".into()));

    // Signing in again while signed in also gets a new id.
    let response = app.sfn(&client_with_cookie(&issued), "login", &form).await;
    let again = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(id_of(&again), id_of(&issued));
}

#[tokio::test]
async fn an_id_dies_at_sign_out_at_a_password_change_and_when_the_user_is_disabled() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user(&admin, "bob@example.org").await;
    let bob = || app.login_cookie("bob@example.org", PASSWORD);

    // Sign-out ends the session it is sent with (this browser's), not the user's others.
    let (signing_out, elsewhere) = (bob().await, bob().await);
    let response = client_with_cookie(&signing_out).post(app.url("/sfn/logout")).send().await.unwrap();
    assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert!(is_dead(&app, &signing_out).await, "the session lives on after sign-out");
    assert!(!is_dead(&app, &elsewhere).await);

    // A password change ends every other session; the one it was made in stays (as the code
    // documents: `change_password` keeps the caller's session).
    let (changing, other) = (bob().await, bob().await);
    let new_password = "a brand new passphrase";
    let form = [("current_password", PASSWORD), ("new_password", new_password)];
    assert_eq!(
        app.sfn(&client_with_cookie(&changing), "change_password", &form).await.status(),
        StatusCode::OK
    );
    assert!(is_dead(&app, &other).await, "another session lives on after the password change");
    assert!(is_dead(&app, &elsewhere).await, "an older session lives on after the password change");
    assert!(!is_dead(&app, &changing).await);

    // Disabling ends every session and the user's access tokens, and re-enabling revives none.
    let (status, token) = app
        .send_json(
            &client_with_cookie(&changing),
            reqwest::Method::POST,
            "/api/tokens",
            serde_json::json!({"name": "t"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let bearer = client_with_bearer(token["accessKey"].as_str().unwrap());
    let second = app.login_cookie("bob@example.org", new_password).await;
    let (_, info) = app.get_json(&client_with_cookie(&second), "/api/user-info").await;
    let bob_id = info["user"]["id"].as_i64().unwrap().to_string();
    for disabled in ["true", "false"] {
        let form = [("user_id", bob_id.as_str()), ("disabled", disabled)];
        assert_eq!(app.sfn(&admin, "set_user_disabled", &form).await.status(), StatusCode::OK);
        assert!(is_dead(&app, &changing).await && is_dead(&app, &second).await, "disabled={disabled}");
        if disabled == "true" {
            assert_eq!(app.get(&bearer, "/api/user-info").await.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let count = format!("SELECT COUNT(*) FROM sessions WHERE user_id = {bob_id}");
    assert_eq!(
        super::db_dump::scalar(&app, &count).await,
        "0",
        "the disabled user's session rows were not deleted"
    );
}

/// The attributes of a `Set-Cookie` header, lower-cased names, and its `name=value`.
fn attributes(set_cookie: &str) -> (String, BTreeSet<String>) {
    let mut parts = set_cookie.split(';').map(str::trim);
    let pair = parts.next().unwrap().to_string();
    (pair, parts.map(|a| a.to_ascii_lowercase()).collect())
}

#[tokio::test]
async fn the_cookie_is_http_only_same_site_path_root_and_secure_over_https() {
    for https in [false, true] {
        let app = spawn_app_with(|c| {
            if https {
                c.public_url = "https://strongroom.example.org".into();
            }
        })
        .await;
        app.setup_admin().await;
        let form = [("email", ADMIN_EMAIL), ("password", PASSWORD)];
        let response = app.sfn(&client(), "login", &form).await;
        let (pair, attrs) = attributes(response.headers()["set-cookie"].to_str().unwrap());
        let name = if https { "__Host-strongroom_session" } else { "strongroom_session" };
        assert!(pair.starts_with(&format!("{name}=")), "{pair}");
        for needed in ["httponly", "path=/"] {
            assert!(attrs.contains(needed), "https={https}: {needed} missing from {attrs:?}");
        }
        assert!(attrs.contains("samesite=lax") || attrs.contains("samesite=strict"), "{attrs:?}");
        assert_eq!(attrs.contains("secure"), https, "Secure exactly when the public URL is https: {attrs:?}");
        assert!(!attrs.iter().any(|a| a.starts_with("domain=")), "a host-only cookie: {attrs:?}");
        assert_eq!(who(&app, &pair).await, (StatusCode::OK, ADMIN_EMAIL.into()));
        // Sign-out's cookie, which clears it, has the same flags.
        let response = client_with_cookie(&pair).post(app.url("/sfn/logout")).send().await.unwrap();
        let (cleared, cleared_attrs) = attributes(response.headers()["set-cookie"].to_str().unwrap());
        assert_eq!(cleared, format!("{name}="));
        assert!(
            cleared_attrs.contains("max-age=0") && cleared_attrs.contains("httponly"),
            "{cleared_attrs:?}"
        );
        assert_eq!(cleared_attrs.contains("secure"), https);
    }
}
