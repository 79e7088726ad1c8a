//! Starting the app for a test, on a fresh SQLite file or a fresh PostgreSQL database that is
//! dropped when the test ends.

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use server::config::Config;
use server::startup::Application;
use std::net::SocketAddr;

pub const ADMIN_EMAIL: &str = "admin@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

/// The endpoints the test suite's apps may call, listed explicitly like an instance administrator
/// would (`endpoint_allow`): the emulators (moto and the fake Secret Manager) listen on
/// 127.0.0.2, so 127.0.0.1 stays unlisted for the tests that prove loopback is refused; the
/// other two are the made-up endpoints of the compute-environment tests.
pub const EMULATOR_ALLOW: &[&str] = &["127.0.0.2", "127.0.0.1:4566", "secretmanager.example.org"];

/// What the test apps may call: the emulators, and the test cluster's SSH ports (each listed by
/// port, so 127.0.0.1 stays unlisted elsewhere, as an instance administrator would list a
/// login node on a private network).
pub fn endpoint_allow() -> Vec<String> {
    let mut allow: Vec<String> = EMULATOR_ALLOW.iter().map(|e| e.to_string()).collect();
    if let Some(cluster) = crate::support::cluster::TestCluster::get() {
        for port in [cluster.port, cluster.lsf_port, cluster.pbs_port, cluster.moab_port, cluster.uge_port] {
            allow.push(format!("{}:{port}", cluster.host));
        }
    }
    allow
}

/// The loopback address the emulators listen on.
pub const EMULATOR_HOST: &str = "127.0.0.2";

/// No request of a test waits longer: a server that stops answering fails the test with the
/// request's name instead of holding up the whole suite until CI's limit.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

pub struct TestApp {
    /// Stops the server when the test ends (dropped first, before its directories go).
    _server: ServerThread,
    pub addr: SocketAddr,
    pub database_url: String,
    /// Holds the SQLite file and the key file; removed when the test ends.
    pub data_dir: tempfile::TempDir,
    /// An HPC work root outside the (private) data directory, which the launch account can
    /// enter: launch-command tests put their work directories here (`launch_work_dir`).
    pub work_root: tempfile::TempDir,
    _database: Option<PgDatabase>,
}

/// The unprivileged account the tests' launch commands run as (the tests run as root).
pub const LAUNCH_ACCOUNT: &str = "srlaunch";

/// Makes the launch account once per test binary (idempotently: it may exist from a past run).
pub fn ensure_launch_account() -> (u32, u32) {
    static ACCOUNT: std::sync::OnceLock<(u32, u32)> = std::sync::OnceLock::new();
    *ACCOUNT.get_or_init(|| {
        let id = |flag: &str| {
            let out = std::process::Command::new("id").args([flag, LAUNCH_ACCOUNT]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().ok()
        };
        if id("-u").is_none() {
            let status = std::process::Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    "--user-group",
                    LAUNCH_ACCOUNT,
                ])
                .status()
                .expect("useradd is installed (the tests run as root)");
            // 9: made meanwhile by another test binary.
            assert!(status.success() || status.code() == Some(9), "useradd {LAUNCH_ACCOUNT}: {status}");
        }
        (id("-u").unwrap(), id("-g").unwrap())
    })
}

/// The HPC settings every test app gets: the data directory and the shared work root allowed,
/// launch commands run as the launch account.
fn hpc_settings(config: &mut Config, data_dir: &std::path::Path, work_root: &std::path::Path) {
    ensure_launch_account();
    config.launch_account = Some(LAUNCH_ACCOUNT.into());
    config.hpc_work_roots = vec![data_dir.to_path_buf(), work_root.to_path_buf()];
}

/// A PostgreSQL database made for one test and dropped (with its connections) at the end.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself: use a fresh one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

pub fn is_postgres() -> bool {
    std::env::var("STRONGROOM_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

async fn fresh_database(data_dir: &std::path::Path) -> (String, Option<PgDatabase>) {
    if !is_postgres() {
        let url = format!("sqlite://{}?mode=rwc", data_dir.join("test.db").display());
        return (url, None);
    }
    use sqlx::Connection;
    let admin_url = std::env::var("STRONGROOM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("strongroom_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL must be reachable at STRONGROOM_TEST_PG_URL (127.0.0.1:5432 by default)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut conn).await.unwrap();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap();
    (format!("{base}/{name}"), Some(PgDatabase { admin_url, name }))
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Every log line of every app in this test binary, so tests can check what was (not) logged.
static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct CapturedLogs;

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    server::telemetry::init("text", false, || CapturedLogs);
    let data_dir = tempfile::tempdir().unwrap();
    // Private, like a real data directory: the launch account must not reach the key or database.
    std::fs::set_permissions(data_dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let work_root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(work_root.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (database_url, database) = fresh_database(data_dir.path()).await;
    // Bound before start so `public_url` (where runs report back) is right, and kept until the
    // server takes it: a port released and bound again was once taken by another socket between.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config {
        addr: format!("127.0.0.1:{port}").parse().unwrap(),
        public_url: format!("http://127.0.0.1:{port}"),
        data_dir: data_dir.path().to_path_buf(),
        database_url: Some(database_url.clone()),
        // Tests sign in many times from one address; the rate-limit test lowers this again.
        login_attempts_per_minute: 1000,
        endpoint_allow: endpoint_allow(),
        ..Config::default()
    };
    hpc_settings(&mut config, data_dir.path(), work_root.path());
    adjust(&mut config);
    let (addr, server) = ServerThread::start(config, listener).await;
    TestApp { _server: server, addr, database_url, data_dir, work_root, _database: database }
}

thread_local! {
    /// Keeps a server worker thread's log subscriber set for as long as the thread lives.
    static WORKER_LOGS: std::cell::RefCell<Option<tracing::dispatcher::DefaultGuard>> =
        const { std::cell::RefCell::new(None) };
}

/// A test's server, on a runtime of its own in a thread of its own, as in production (a
/// multi-threaded runtime the server alone uses). On the test's own single-threaded runtime, the
/// server only ran while the test awaited, and a page request once went unanswered for 60 s
/// there, which 30,000 requests to the real server never did.
struct ServerThread {
    /// Dropped with the test's app: the server's runtime then ends, and every task with it.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl ServerThread {
    /// Builds and starts the app on its own runtime; its address once it listens.
    async fn start(config: Config, listener: std::net::TcpListener) -> (SocketAddr, ServerThread) {
        let (started, listening) = tokio::sync::oneshot::channel();
        let (stop, stop_asked) = tokio::sync::oneshot::channel::<()>();
        // The test's log subscriber (a test may capture the server's events on its own thread):
        // every thread of the server's runtime logs to it too.
        let dispatch = tracing::dispatcher::get_default(|current| current.clone());
        let for_workers = dispatch.clone();
        std::thread::Builder::new()
            .name("test-server".into())
            .spawn(move || {
                let _logs = tracing::dispatcher::set_default(&dispatch);
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .on_thread_start(move || {
                        let guard = tracing::dispatcher::set_default(&for_workers);
                        WORKER_LOGS.with(|held| *held.borrow_mut() = Some(guard));
                    })
                    .build()
                    .expect("the server's runtime starts");
                runtime.block_on(async move {
                    let app = match Application::build_on(config, listener).await {
                        Ok(app) => app,
                        Err(error) => {
                            let _ = started.send(Err(format!("{error:#}")));
                            return;
                        }
                    };
                    let _ = started.send(Ok(app.local_addr()));
                    tokio::select! {
                        _ = app.run_until_stopped() => {}
                        _ = stop_asked => {}
                    }
                });
                // Cancels what is left (background jobs, open connections) without waiting.
                runtime.shutdown_background();
            })
            .expect("the server thread starts");
        let addr = listening.await.expect("the server thread answers").expect("the app starts");
        (addr, ServerThread { _stop: stop })
    }
}

/// What a browser says on every request to the page's own site (fetch metadata). The server
/// refuses a cookie-session request that changes state without it or a matching `Origin`.
fn same_origin_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
    headers
}

/// A client that sends the given `name=value` session cookie on every request, like a browser
/// on this site's pages.
pub fn client_with_cookie(cookie: &str) -> Client {
    let mut headers = same_origin_headers();
    headers.insert("cookie", cookie.parse().unwrap());
    client_sending(headers)
}

/// A machine client: sends `Authorization: Bearer <token>` on every request.
pub fn client_with_bearer(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    client_sending(headers)
}

/// A client that sends `headers` on every request, does not follow redirects and times out.
fn client_sending(headers: reqwest::header::HeaderMap) -> Client {
    Client::builder()
        .default_headers(headers)
        .redirect(Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap()
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them), and
/// says its requests come from this site's pages (`Sec-Fetch-Site: same-origin`).
/// How long a request may go unanswered before the test dumps every thread's stack and fails:
/// a hung request is a bug to diagnose, not a timeout to wait out.
const HANG_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Sends a request; a request unanswered after [`HANG_AFTER`] fails the test with the stacks of
/// every thread of this process (the servers run in it), to show where it waits.
pub async fn send(request: reqwest::RequestBuilder) -> Response {
    let described = format!("{request:?}");
    match tokio::time::timeout(HANG_AFTER, request.send()).await {
        Ok(response) => response.unwrap(),
        Err(_) => panic!("no answer within {HANG_AFTER:?} to {described}\n{}", thread_stacks()),
    }
}

/// Reads a response's whole body; a body still unfinished after [`HANG_AFTER`] fails the test
/// naming `what` and with every thread's stack, as [`send`] does for a request left unanswered
/// (a page streams its body after the headers, so a stuck resource shows only here).
pub async fn body_of(what: &str, response: Response) -> Vec<u8> {
    match tokio::time::timeout(HANG_AFTER, response.bytes()).await {
        Ok(body) => body.unwrap_or_else(|e| panic!("the body of {what} broke off: {e}")).to_vec(),
        Err(_) => panic!("the body of {what} did not end within {HANG_AFTER:?}\n{}", thread_stacks()),
    }
}

/// Every thread's stack, from gdb attached to this process (empty when gdb is missing).
///
/// gdb writes to a file, not a pipe: it stops every thread of this process while it prints,
/// the one that would read the pipe included, so more than a pipe's 64 KiB of stacks (a few
/// dozen threads: one test server's runtime and SQLite workers each) left gdb waiting for that
/// reader and the reader for gdb, and the whole test binary hung.
fn thread_stacks() -> String {
    let pid = std::process::id().to_string();
    let stacks = match tempfile::NamedTempFile::new() {
        Ok(file) => file,
        Err(e) => return format!("(no stacks: no file for them: {e})"),
    };
    let stdout = match stacks.reopen() {
        Ok(file) => file,
        Err(e) => return format!("(no stacks: no file for them: {e})"),
    };
    let status = std::process::Command::new("gdb")
        .args(["-p", &pid, "-batch", "-ex", "thread apply all bt"])
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::null())
        .status();
    match status {
        Ok(_) => std::fs::read_to_string(stacks.path()).unwrap_or_else(|e| format!("(no stacks: {e})")),
        Err(e) => format!("(no stacks: gdb did not run: {e})"),
    }
}

pub fn client() -> Client {
    Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .cookie_store(true)
        .default_headers(same_origin_headers())
        .redirect(Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// A second set of services on the same database and key, to drive background jobs
    /// (the reconciler, a worker step) directly from a test.
    pub async fn services(&self) -> server::domain::Core {
        self.services_with(|_| {}).await
    }

    /// Like `services`, with settings changed (another install id needs another database).
    pub async fn services_with(&self, adjust: impl FnOnce(&mut Config)) -> server::domain::Core {
        let mut config = Config {
            data_dir: self.data_dir.path().to_path_buf(),
            database_url: Some(self.database_url.clone()),
            reconcile_grace_secs: 0,
            endpoint_allow: endpoint_allow(),
            ..Config::default()
        };
        hpc_settings(&mut config, self.data_dir.path(), self.work_root.path());
        adjust(&mut config);
        server::startup::build_core(&config).await.expect("services on the test database")
    }

    /// A work directory for an environment with a launch command: under the work root, owned
    /// by the launch account (Nextflow writes its own files there) and reachable by it.
    pub fn launch_work_dir(&self, name: &str) -> std::path::PathBuf {
        let (uid, gid) = ensure_launch_account();
        let dir = self.work_root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        dir
    }

    pub fn key_file(&self) -> std::path::PathBuf {
        self.data_dir.path().join("strongroom.key")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Calls a server function the way an HTML form does.
    pub async fn sfn(&self, client: &Client, name: &str, form: &[(&str, &str)]) -> Response {
        send(client.post(self.url(&format!("/sfn/{name}"))).form(form)).await
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        send(client.get(self.url(path))).await
    }

    pub async fn get_json(&self, client: &Client, path: &str) -> (StatusCode, Value) {
        let response = self.get(client, path).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_json(
        &self,
        client: &Client,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = send(client.request(method, self.url(path)).json(&body)).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Completes first-visit setup and returns the signed-in administrator's client.
    pub async fn setup_admin(&self) -> Client {
        let admin = client();
        let response = self
            .sfn(
                &admin,
                "setup",
                &[("email", ADMIN_EMAIL), ("display_name", "Ada Admin"), ("password", PASSWORD)],
            )
            .await;
        assert!(response.headers().contains_key("location"), "setup failed: {}", response.status());
        admin
    }

    /// The admin creates a user, who then signs in: returns that user's client.
    pub async fn user(&self, admin: &Client, email: &str) -> Client {
        let response = self
            .sfn(
                admin,
                "create_user",
                &[("email", email), ("display_name", "Test User"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Client {
        let user = client();
        let response = self.sfn(&user, "login", &[("email", email), ("password", password)]).await;
        // Like the browser's server-function client: success is a Location to follow.
        assert!(response.headers().contains_key("location"), "sign-in failed: {}", response.status());
        user
    }

    /// Creates an organization and a workspace as `owner`, returning their ids.
    pub async fn org_and_workspace(&self, owner: &Client, name: &str) -> (i64, i64) {
        let (status, org) = self
            .send_json(
                owner,
                reqwest::Method::POST,
                "/api/orgs",
                serde_json::json!({
                    "organization": { "name": name, "fullName": format!("{name} org") }
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{org}");
        let org_id = org["organization"]["orgId"].as_i64().unwrap();
        let (status, ws) = self
            .send_json(
                owner,
                reqwest::Method::POST,
                &format!("/api/orgs/{org_id}/workspaces"),
                serde_json::json!({
                    "workspace": { "name": "main", "fullName": "Main workspace", "visibility": "PRIVATE" }
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ws}");
        (org_id, ws["workspace"]["id"].as_i64().unwrap())
    }

    /// Asks to create a compute environment in workspace `ws` as `who`: the status and the
    /// answer, for tests of what is accepted and what is refused.
    pub async fn create_compute_env(
        &self,
        who: &Client,
        ws: i64,
        name: &str,
        platform: &str,
        config: Value,
    ) -> (StatusCode, Value) {
        let body =
            serde_json::json!({ "computeEnv": { "name": name, "platform": platform, "config": config } });
        self.send_json(who, reqwest::Method::POST, &format!("/api/compute-envs?workspaceId={ws}"), body).await
    }

    /// Adds `email` to the workspace with `role` (as `owner`), returning the participant id.
    pub async fn add_participant(
        &self,
        owner: &Client,
        org_id: i64,
        ws_id: i64,
        email: &str,
        role: &str,
    ) -> i64 {
        let (status, body) = self
            .send_json(
                owner,
                reqwest::Method::PUT,
                &format!("/api/orgs/{org_id}/workspaces/{ws_id}/participants/add"),
                serde_json::json!({ "userNameOrEmail": email, "role": role }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["participant"]["participantId"].as_i64().unwrap()
    }

    /// Signs in and returns the session cookie as `name=value`, for tests that replay it.
    pub async fn login_cookie(&self, email: &str, password: &str) -> String {
        let response = self.sfn(&client(), "login", &[("email", email), ("password", password)]).await;
        // Like the browser's server-function client: success is a Location to follow.
        assert!(response.headers().contains_key("location"), "sign-in failed: {}", response.status());
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
        set_cookie.split(';').next().unwrap().to_string()
    }

    pub async fn get_with_cookie(&self, cookie: &str, path: &str) -> StatusCode {
        client_with_cookie(cookie).get(self.url(path)).send().await.unwrap().status()
    }

    pub async fn run_sql(&self, sql: &str) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.database_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.unwrap();
        pool.close().await;
    }
}
