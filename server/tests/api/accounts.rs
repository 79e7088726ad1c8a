use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn first_visit_goes_to_setup_and_later_visits_to_login() {
    let app = spawn_app().await;
    let visitor = client();
    let response = app.get(&visitor, "/orgs/1/workspaces/1/members").await;
    assert_eq!(response.headers()["location"], "/setup");
    let setup_page = app.get(&visitor, "/setup").await;
    assert_eq!(setup_page.status(), StatusCode::OK);

    let admin = app.setup_admin().await;
    assert_eq!(app.get(&visitor, "/").await.headers()["location"], "/login");
    assert_eq!(app.get(&visitor, "/setup").await.headers()["location"], "/login");
    // Signed in, the public pages send you home.
    assert_eq!(app.get(&admin, "/login").await.headers()["location"], "/");
    let home = app.get(&admin, "/").await;
    assert_eq!(home.status(), StatusCode::OK);
}

#[tokio::test]
async fn setup_happens_once() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let again = client();
    let response = app
        .sfn(
            &again,
            "setup",
            &[("email", "mallory@example.org"), ("display_name", "M"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("already set up"));
    // Mallory got no account.
    let login =
        app.sfn(&client(), "login", &[("email", "mallory@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = app
        .sfn(&client(), "setup", &[("email", ADMIN_EMAIL), ("display_name", "Ada"), ("password", PASSWORD)])
        .await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("strongroom_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let unknown =
        app.sfn(&client(), "login", &[("email", "nobody@example.org"), ("password", PASSWORD)]).await;
    let wrong =
        app.sfn(&client(), "login", &[("email", ADMIN_EMAIL), ("password", "not the password")]).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(|c| c.login_attempts_per_minute = 3).await;
    app.setup_admin().await;
    for _ in 0..3 {
        let r = app.sfn(&client(), "login", &[("email", ADMIN_EMAIL), ("password", "wrong password!")]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let limited = app.sfn(&client(), "login", &[("email", ADMIN_EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Even the right password is refused while limited, and no session is created.
    assert!(limited.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn sign_out_ends_the_session_at_once() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let cookie = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(app.get_with_cookie(&cookie, "/api/user-info").await, StatusCode::OK);
    let logout = client().post(app.url("/sfn/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(logout.headers()["location"], "/login");
    assert!(logout.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    // The old cookie, replayed, is worthless.
    assert_eq!(app.get_with_cookie(&cookie, "/api/user-info").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_blocks_sign_in() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    app.user(&admin, "bob@example.org").await;
    let cookie = app.login_cookie("bob@example.org", PASSWORD).await;
    let (_, info) = app.get_json(&client_with_cookie(&cookie), "/api/user-info").await;
    let bob_id = info["user"]["id"].as_i64().unwrap().to_string();

    let r = app.sfn(&admin, "set_user_disabled", &[("user_id", &bob_id), ("disabled", "true")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.get_with_cookie(&cookie, "/api/user-info").await, StatusCode::UNAUTHORIZED);
    let login = app.sfn(&client(), "login", &[("email", "bob@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST);

    let r = app.sfn(&admin, "set_user_disabled", &[("user_id", &bob_id), ("disabled", "false")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    app.login("bob@example.org", PASSWORD).await;
}

#[tokio::test]
async fn idle_and_old_sessions_are_refused() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let idle = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    let old = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(app.get_with_cookie(&idle, "/api/user-info").await, StatusCode::OK);
    // Default policy: 8 h idle, 24 h absolute. Age the rows instead of waiting.
    let hour = 3_600_000i64;
    let now = server::domain::now_ms();
    app.run_sql(&format!("UPDATE sessions SET last_seen_at = {}", now - 9 * hour)).await;
    assert_eq!(app.get_with_cookie(&idle, "/api/user-info").await, StatusCode::UNAUTHORIZED);
    let fresh = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    app.run_sql(&format!("UPDATE sessions SET created_at = {}", now - 25 * hour)).await;
    assert_eq!(app.get_with_cookie(&old, "/api/user-info").await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_with_cookie(&fresh, "/api/user-info").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_instance_admins_manage_users() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let bob = app.user(&admin, "bob@example.org").await;
    let r = app
        .sfn(
            &bob,
            "create_user",
            &[("email", "eve@example.org"), ("display_name", "Eve"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.sfn(&bob, "list_users", &[]).await.status(), StatusCode::FORBIDDEN);
    let login = app.sfn(&client(), "login", &[("email", "eve@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(login.status(), StatusCode::BAD_REQUEST, "eve must not exist");
}

#[tokio::test]
async fn bad_account_input_gets_a_clear_message_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let cases = [
        ("not-an-email", PASSWORD, "email address"),
        ("carol@example.org", "short", "at least 8"),
        ("carol@example.org", "password123", "common"),
        (ADMIN_EMAIL, PASSWORD, "already exists"),
    ];
    for (email, password, message) in cases {
        let r = app
            .sfn(
                &admin,
                "create_user",
                &[("email", email), ("display_name", "Carol"), ("password", password)],
            )
            .await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::CONFLICT, "{email}: {status}");
        assert!(body.contains(message), "{email}: {body}");
        assert!(!body.contains(password) || password == PASSWORD, "password echoed: {body}");
    }
    let users = app.sfn(&admin, "list_users", &[]).await.text().await.unwrap();
    assert!(!users.contains("carol@example.org"), "{users}");
}

#[tokio::test]
async fn users_change_their_own_password_and_other_sessions_end() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let other_session = app.login_cookie(ADMIN_EMAIL, PASSWORD).await;
    let wrong = app
        .sfn(
            &admin,
            "change_password",
            &[("current_password", "nope nope"), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let ok = app
        .sfn(
            &admin,
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(app.get(&admin, "/api/user-info").await.status(), StatusCode::OK, "this session stays");
    assert_eq!(app.get_with_cookie(&other_session, "/api/user-info").await, StatusCode::UNAUTHORIZED);
    app.login(ADMIN_EMAIL, "a brand new passphrase").await;
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let r = client()
        .post(app.url("/sfn/login"))
        .header("origin", "https://evil.example")
        .form(&[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cli_admin_create_bootstraps_the_first_administrator() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app().await; // only for a fresh database URL on the chosen backend
    let mut child = Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["admin", "create", "--email", "root@example.org", "--password-file", "-"])
        .env("DATABASE_URL", &app.database_url)
        .env("STRONGROOM_DATA_DIR", dir.path())
        .env("STRONGROOM_KEY_FILE", app.key_file())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("root@example.org"));
    assert!(!stdout.contains(PASSWORD));
    // The web setup is now closed and the new admin can sign in and manage users.
    assert_eq!(app.get(&client(), "/").await.headers()["location"], "/login");
    let root = app.login("root@example.org", PASSWORD).await;
    assert_eq!(app.sfn(&root, "list_users", &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_server_refuses_to_start_with_another_key_file() {
    let app = spawn_app().await;
    let other_dir = tempfile::tempdir().unwrap();
    let config = server::config::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: other_dir.path().to_path_buf(),
        database_url: Some(app.database_url.clone()),
        ..Default::default()
    };
    let error = server::startup::Application::build(config).await.err().expect("must refuse to start");
    assert!(format!("{error:#}").contains("not the key this database is encrypted with"), "{error:#}");
    // With the right key file it starts.
    let config = server::config::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: other_dir.path().to_path_buf(),
        database_url: Some(app.database_url.clone()),
        key_file: Some(app.key_file()),
        ..Default::default()
    };
    assert!(server::startup::Application::build(config).await.is_ok());
}

/// A deep link survives signing in: a signed-out visitor asking for a page is sent to the login
/// page with the page to come back to, and lands there once signed in; a `next` that leaves the
/// site goes home instead.
#[tokio::test]
async fn a_deep_link_survives_sign_in_and_never_leaves_the_site() {
    let app = spawn_app().await;
    app.setup_admin().await;
    let visitor = client();
    let asked = app.get(&visitor, "/user/tokens?tab=all").await;
    assert_eq!(asked.headers()["location"], "/login?next=%2Fuser%2Ftokens%3Ftab%3Dall");

    for (next, lands) in [
        ("/user/tokens?tab=all", "/user/tokens?tab=all"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/login", "/"),
    ] {
        let fields = [("email", ADMIN_EMAIL), ("password", PASSWORD), ("next", next)];
        let response = app.sfn(&client(), "login", &fields).await;
        assert_eq!(response.headers()["location"], lands, "next={next}");
    }
}
