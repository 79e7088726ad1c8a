//! The widened leak scan (issue 15): 50 and more canary values through every write path the
//! tests can reach in-process (REST, server functions, the `strongroom` CLI, a launch to the
//! local HPC target), on happy and refused paths, with every log at trace level; then each
//! canary is searched, in each encoding (`forms`), in every place it must not be: every response
//! (API, server functions, every page as a participant and signed out, error pages, redirects;
//! headers and bodies), every log line, the CLI's output, the database (SQLite file, WAL and
//! shm; a PostgreSQL dump) and every file under the data directory and the HPC work root once
//! the run is cleaned (a live run's copy is the only place a value may be, and it is gone then).
//! A control canary planted in each place, in each encoding, proves each search finds it.

use super::database_bytes;
use super::forms::{canary, contains, control_canary, core, forms, ENCODINGS};
use crate::cli::strongroom;
use crate::helpers::*;
use crate::identities::TestKey;
use crate::proof::routes::application_routes;
use crate::runs::{quick_jobs, stage, wait_for};
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Log output at trace level, captured for this test alone.
#[derive(Clone, Default)]
struct TraceLogs(Arc<Mutex<Vec<u8>>>);

impl Write for TraceLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Byte strings with what each is (a response, a log, a file).
type Named = Vec<(String, Vec<u8>)>;

/// Every answer of the test, and every canary it sent.
struct Scan<'a> {
    app: &'a TestApp,
    canaries: Vec<String>,
    responses: Named,
}

impl<'a> Scan<'a> {
    fn canary(&mut self, spaces: bool) -> String {
        let value = canary(spaces);
        self.canaries.push(value.clone());
        value
    }

    async fn keep(&mut self, what: String, response: Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let mut text = format!("{status} {:?}\n", response.headers()).into_bytes();
        let body = body_of(&what, response).await;
        text.extend_from_slice(&body);
        self.responses.push((what, text));
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn json(&mut self, who: &Client, method: Method, path: &str, body: Value) -> (u16, Value) {
        let request = who.request(method.clone(), self.app.url(path));
        let request = if body.is_null() { request } else { request.json(&body) };
        self.keep(format!("{method} {path}"), send(request).await).await
    }

    async fn raw(&mut self, who: &Client, method: Method, path: &str, body: String) -> (u16, Value) {
        let request =
            who.request(method.clone(), self.app.url(path)).header("content-type", "application/json");
        self.keep(format!("{method} {path} (malformed)"), send(request.body(body)).await).await
    }

    async fn sfn(&mut self, who: &Client, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self.app.sfn(who, name, form).await;
        self.keep(format!("sfn {name}"), response).await
    }

    async fn get(&mut self, who: &Client, whose: &str, path: &str) -> u16 {
        let response = self.app.get(who, path).await;
        self.keep(format!("{whose} GET {path}"), response).await.0
    }
}

fn ok(status: u16, what: &str, body: &Value) {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
}

/// Every file under `dir`, as (path, bytes), skipping the database files (scanned on their own).
fn files_under(dir: &std::path::Path, out: &mut Named) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            files_under(&path, out);
        } else if !name.starts_with("test.db") {
            if let Ok(bytes) = std::fs::read(&path) {
                out.push((path.display().to_string(), bytes));
            }
        }
    }
}

#[tokio::test]
async fn fifty_canaries_reach_no_response_log_database_or_file_in_any_encoding() {
    let started = std::time::Instant::now();
    // Every event of this test's thread at trace level: the test runtime runs the server's tasks
    // (middleware, handlers, workers) on this thread. Threads outside the runtime (SQLite's driver
    // thread, blocking password hashing) log to the binary's shared capture at its usual level,
    // which is searched too.
    let logs = TraceLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _trace = tracing::subscriber::set_default(subscriber);
    tracing::trace!("the trace-level capture is on");

    let app = spawn_app_with(quick_jobs).await;
    let admin = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&admin, "canaries").await;
    let viewer = app.user(&admin, "viewer@example.org").await;
    app.add_participant(&admin, org, ws, "viewer@example.org", "view").await;
    let (_, other_ws) = app.org_and_workspace(&admin, "elsewhere").await;
    let mut s = Scan { app: &app, canaries: Vec::new(), responses: Vec::new() };
    let in_ws = format!("?workspaceId={ws}");
    let ws_form = ws.to_string();

    // REST: workspace and personal secrets, created and replaced.
    let mut launched_names = Vec::new();
    for i in 0..5 {
        let value = s.canary(true);
        let name = format!("WS_{i}");
        let (status, body) = s
            .json(
                &admin,
                Method::POST,
                &format!("/api/pipeline-secrets{in_ws}"),
                json!({"name": name, "value": value}),
            )
            .await;
        ok(status, "create", &body);
        let id = body["secretId"].to_string();
        let value = s.canary(true);
        let (status, body) = s
            .json(&admin, Method::PUT, &format!("/api/pipeline-secrets/{id}{in_ws}"), json!({"value": value}))
            .await;
        ok(status, "update", &body);
        launched_names.push(name);
        let value = s.canary(true);
        let (status, body) = s
            .json(
                &admin,
                Method::POST,
                "/api/pipeline-secrets",
                json!({"name": format!("MINE_{i}"), "value": value}),
            )
            .await;
        ok(status, "create own", &body);
    }
    // REST: cloud credentials, created and replaced.
    let mut credentials_ids = Vec::new();
    for i in 0..3 {
        let keys = json!({"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": s.canary(false)});
        let body = json!({"credentials": {"name": format!("aws{i}"), "provider": "aws", "keys": keys}});
        let (status, body) = s.json(&admin, Method::POST, &format!("/api/credentials{in_ws}"), body).await;
        ok(status, "credentials", &body);
        credentials_ids.push(body["credentialsId"].as_str().unwrap().to_string());
    }
    for id in &credentials_ids[..2] {
        let keys = json!({"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": s.canary(false)});
        let (status, body) = s
            .json(
                &admin,
                Method::PUT,
                &format!("/api/credentials/{id}{in_ws}"),
                json!({"credentials": {"keys": keys}}),
            )
            .await;
        ok(status, "replace credentials", &body);
    }
    // REST: managed cluster credentials, an SSH key whose passphrase and key body are canaries.
    let identity =
        json!({"name": "cluster", "platform": "slurm-platform", "config": {"hostName": "login.example.org"}});
    let (status, body) =
        s.json(&admin, Method::POST, &format!("/api/identities?orgId={org}"), identity).await;
    ok(status, "identity", &body);
    let identity_id = body["id"].as_i64().unwrap();
    let passphrase = s.canary(true);
    let key = TestKey::new(Some(&passphrase));
    s.canaries.push(key.canary());
    let path = format!("/api/identities/{identity_id}/credentials?orgId={org}");
    let (status, body) = s.json(&admin, Method::POST, &path, key.request("alice")).await;
    ok(status, "cluster credentials", &body);
    let managed_id = body["managedCredentials"]["id"].as_i64().unwrap();
    let passphrase = s.canary(true);
    let key = TestKey::new(Some(&passphrase));
    s.canaries.push(key.canary());
    let path = format!("/api/identities/{identity_id}/credentials/{managed_id}?orgId={org}");
    let (status, body) = s.json(&admin, Method::PUT, &path, key.request("alice")).await;
    ok(status, "replace cluster credentials", &body);

    // REST: refused and malformed writes, each carrying a canary.
    let value = s.canary(true);
    let (status, _) = s
        .json(
            &viewer,
            Method::POST,
            &format!("/api/pipeline-secrets{in_ws}"),
            json!({"name": "NOPE", "value": value}),
        )
        .await;
    assert_eq!(status, 403);
    let value = s.canary(true);
    let (status, _) = s
        .json(
            &admin,
            Method::POST,
            &format!("/api/pipeline-secrets?workspaceId={other_ws}9"),
            json!({"name": "NOPE", "value": value}),
        )
        .await;
    assert_eq!(status, 404);
    let value = s.canary(true);
    let (status, _) = s
        .json(&client(), Method::POST, "/api/pipeline-secrets", json!({"name": "NOPE", "value": value}))
        .await;
    assert_eq!(status, 401);
    let value = s.canary(true);
    let (status, _) = s
        .raw(
            &admin,
            Method::POST,
            "/api/pipeline-secrets",
            format!("{{\"name\": \"CUT\", \"value\": {}", json!(value)),
        )
        .await;
    assert_eq!(status, 400);
    let value = s.canary(true);
    let (status, _) = s
        .raw(
            &admin,
            Method::POST,
            "/api/pipeline-secrets",
            format!("{{\"name\": 7, \"value\": {}}}", json!(value)),
        )
        .await;
    assert!((400..500).contains(&status), "{status}");
    let value = s.canary(true);
    let too_long = format!("{value}{}", "z".repeat(64 * 1024));
    let (status, _) = s
        .json(
            &admin,
            Method::POST,
            &format!("/api/pipeline-secrets{in_ws}"),
            json!({"name": "LONG", "value": too_long}),
        )
        .await;
    assert_eq!(status, 400);

    // Server functions: secrets, credentials, cluster keys, accounts and passwords.
    for i in 0..4 {
        let value = s.canary(true);
        let scope = if i % 2 == 0 { ws_form.as_str() } else { "0" };
        let (status, body) = s
            .sfn(
                &admin,
                "create_secret",
                &[("workspace_id", scope), ("name", &format!("UI_{i}")), ("value", &value)],
            )
            .await;
        ok(status, "sfn create", &body);
        let id = body.to_string();
        let value = s.canary(true);
        let (status, body) = s
            .sfn(&admin, "update_secret", &[("workspace_id", scope), ("secret_id", &id), ("value", &value)])
            .await;
        ok(status, "sfn update", &body);
    }
    let value = s.canary(true);
    let (status, _) = s
        .sfn(&viewer, "create_secret", &[("workspace_id", &ws_form), ("name", "UI_NOPE"), ("value", &value)])
        .await;
    assert_eq!(status, 403);
    for i in 0..2 {
        let secret_key = s.canary(false);
        let form = [
            ("workspace_id", ws_form.as_str()),
            ("name", if i == 0 { "ui-aws0" } else { "ui-aws1" }),
            ("provider", "aws"),
            ("access_key", "AKIAIOSFODNN7EXAMPLE"),
            ("secret_key", &secret_key),
            ("assume_role_arn", ""),
            ("external_id", ""),
            ("key_file", ""),
        ];
        let (status, body) = s.sfn(&admin, "create_credentials", &form).await;
        ok(status, "sfn credentials", &body);
    }
    let passphrase = s.canary(true);
    let key = TestKey::new(Some(&passphrase));
    s.canaries.push(key.canary());
    let (status, body) = s
        .sfn(
            &viewer,
            "add_cluster_credentials",
            &[
                ("org_id", &org.to_string()),
                ("identity_id", &identity_id.to_string()),
                ("user_name", "bob"),
                ("private_key", &key.private_key),
                ("passphrase", &passphrase),
            ],
        )
        .await;
    ok(status, "sfn cluster credentials", &body);
    for i in 0..2 {
        let password = s.canary(true);
        let email = format!("canary{i}@example.org");
        let (status, body) = s
            .sfn(&admin, "create_user", &[("email", &email), ("display_name", "C"), ("password", &password)])
            .await;
        ok(status, "create user", &body);
        let user = client();
        let (status, _) = s.sfn(&user, "login", &[("email", &email), ("password", &password)]).await;
        assert!((200..400).contains(&status), "signs in with the canary password: {status}");
        let new_password = s.canary(true);
        let (status, body) = s
            .sfn(
                &user,
                "change_password",
                &[("current_password", &password), ("new_password", &new_password)],
            )
            .await;
        ok(status, "change password", &body);
        let wrong = s.canary(true);
        let (status, _) = s.sfn(&client(), "login", &[("email", &email), ("password", &wrong)]).await;
        assert_eq!(status, 400, "a wrong password");
    }

    // The CLI, at trace level, with the admin's token: a workspace secret and an own one.
    let (_, token) = s.json(&admin, Method::POST, "/api/tokens", json!({"name": "cli"})).await;
    let env = vec![
        ("STRONGROOM_URL", app.url("")),
        ("STRONGROOM_ACCESS_TOKEN", token["accessKey"].as_str().unwrap().to_string()),
        ("RUST_LOG", "trace".to_string()),
    ];
    let mut cli_output = Vec::new();
    for (i, scope) in [Some(ws_form.as_str()), None, Some(ws_form.as_str())].into_iter().enumerate() {
        let value = s.canary(true);
        let name = format!("CLI_{i}");
        let mut args = vec!["secrets", "add", "--name", &name, "--value-file", "-"];
        if let Some(scope) = scope {
            args.extend(["--workspace", scope]);
        }
        let out = strongroom(&args, &env, Some(&value)).await;
        assert!(out.ok, "{}", out.stderr);
        cli_output.push((format!("CLI {args:?}"), format!("{}\n{}", out.stdout, out.stderr).into_bytes()));
        let value = s.canary(true);
        let mut args = vec!["secrets", "update", "--name", &name, "--value-file", "-"];
        if let Some(scope) = scope {
            args.extend(["--workspace", scope]);
        }
        let out = strongroom(&args, &env, Some(&value)).await;
        assert!(out.ok, "{}", out.stderr);
        cli_output.push((format!("CLI {args:?}"), format!("{}\n{}", out.stdout, out.stderr).into_bytes()));
    }

    // A launch copies five workspace canaries to the local HPC store; once the run is cancelled
    // and cleaned, the copy is gone like every other trace of the values.
    let body = json!({"launch": {"pipeline": "nf-core/canaries", "workspaceSecrets": launched_names}});
    let (status, run) = s.json(&admin, Method::POST, &format!("/api/workflow/launch{in_ws}"), body).await;
    ok(status, "launch", &run);
    let wf = run["workflowId"].as_str().unwrap().to_string();
    let live = wait_for(&app, &admin, ws, &wf, |run| stage(run) == "launched").await;
    let store = live["launchEnvironment"]["NXF_SECRETS_FILE"].as_str().expect("the copy's path").to_string();
    let copied = std::fs::read(&store).unwrap();
    // The copy is JSON, so a value's quote and backslash are escaped there: look for the core.
    assert!(
        s.canaries.iter().any(|c| contains(&copied, core(c))),
        "the live copy holds the values: the run path ran"
    );
    s.get(&admin, "admin", &format!("/api/workflow/{wf}{in_ws}")).await;
    let (status, _) =
        s.json(&admin, Method::POST, &format!("/api/workflow/{wf}/cancel{in_ws}"), json!({})).await;
    assert_eq!(status, 204);
    wait_for(&app, &admin, ws, &wf, |run| stage(run) == "cleaned").await;

    // Every read: the API's lists and descriptions, every page (participants and signed out,
    // with the ids above), an unknown page and an unknown API path.
    let ids: BTreeMap<&str, String> = BTreeMap::from([
        ("org_id", org.to_string()),
        ("workspace_id", ws.to_string()),
        ("workflow_id", wf.clone()),
        ("credentials_id", credentials_ids[0].clone()),
        ("managed_identity_id", identity_id.to_string()),
    ]);
    let mut reads = vec!["/no/such/page".to_string(), "/api/no/such/route".to_string()];
    for route in application_routes(&app).await {
        if !route.has_get() || route.path.contains("{*") || route.path.starts_with("/sfn/") {
            continue;
        }
        let mut path = route.path.clone();
        if !route.params().iter().all(|p| ids.contains_key(p.as_str())) {
            continue;
        }
        for param in route.params() {
            path = path.replace(&format!("{{{param}}}"), &ids[param.as_str()]);
        }
        if path.starts_with("/api/identities") {
            path.push_str(&format!("?orgId={org}"));
        } else if path.starts_with("/api/") {
            path.push_str(&in_ws);
        }
        reads.push(path);
    }
    let signed_out = client();
    for path in &reads {
        for (whose, who) in [("admin", &admin), ("viewer", &viewer), ("signed out", &signed_out)] {
            s.get(who, whose, path).await;
        }
    }
    for name in ["list_secrets", "list_credentials", "launch_options", "list_runs"] {
        s.sfn(&admin, name, &[("workspace_id", &ws_form), ("search", "")]).await;
    }
    s.sfn(&admin, "your_cluster_credentials", &[]).await;

    // The control: one canary planted in every place, in every form, must be found there.
    let control = control_canary();
    let planted = forms(&control).into_iter().map(|(_, form)| form).collect::<Vec<_>>().join(" ");
    let (status, body) = s
        .json(
            &admin,
            Method::POST,
            "/api/orgs",
            json!({"organization": {"name": "control", "fullName": "Control", "description": planted}}),
        )
        .await;
    ok(status, "the control organization", &body);
    for (_, form) in forms(&control) {
        tracing::trace!(target: "leak_control", "{form}");
    }
    // The CLI quotes an argument it cannot read (a workspace id that is not a number).
    let out = strongroom(&["secrets", "list", "--workspace", &planted], &env, None).await;
    assert!(!out.ok, "a workspace id of words is refused");
    cli_output.push(("CLI control".into(), format!("{}\n{}", out.stdout, out.stderr).into_bytes()));
    std::fs::write(app.work_root.path().join("control.txt"), &planted).unwrap();

    // The places, each as named byte strings.
    let mut places: Vec<(&str, Named)> = Vec::new();
    places.push(("responses", std::mem::take(&mut s.responses)));
    let mut all_logs = logs.0.lock().unwrap().clone();
    // The capture is real and at trace level: the server's own events and trace-level ones are in it.
    let trace_text = String::from_utf8_lossy(&all_logs).into_owned();
    assert!(
        trace_text.contains(" TRACE ") && trace_text.contains("secret created"),
        "the trace capture saw the server"
    );
    all_logs.extend_from_slice(captured_logs().as_bytes());
    places.push(("logs", vec![("trace log".into(), all_logs)]));
    places.push(("CLI output", cli_output));
    for (file, bytes) in database_bytes(&app).await {
        places.push((if is_postgres() { "pg_dump" } else { "SQLite files" }, vec![(file, bytes)]));
    }
    let mut files = Vec::new();
    files_under(app.data_dir.path(), &mut files);
    files_under(app.work_root.path(), &mut files);
    places.push(("files", files));
    // As text (invalid UTF-8 replaced; every form searched for is valid UTF-8, so survives), to
    // search with the standard library's fast substring search.
    let mut grouped: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut bytes_scanned = 0usize;
    for (place, items) in places {
        for (what, bytes) in items {
            bytes_scanned += bytes.len();
            grouped.entry(place).or_default().push((what, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }

    let mut missed = Vec::new();
    for (place, items) in &grouped {
        for (encoding, form) in forms(&control) {
            if !items.iter().any(|(_, text)| text.contains(form.as_str())) {
                missed.push(format!("{place}: {encoding} {form}"));
            }
        }
    }
    assert!(missed.is_empty(), "the scan does not find the planted control in: {missed:#?}");

    assert!(s.canaries.len() >= 50, "{} canaries", s.canaries.len());
    let mut leaks = Vec::new();
    let mut searches = 0usize;
    for value in &s.canaries {
        for (encoding, form) in forms(value) {
            for (place, items) in &grouped {
                searches += 1;
                for (what, text) in items {
                    if text.contains(form.as_str()) {
                        leaks.push(format!("{place}: {what} ({encoding})"));
                    }
                }
            }
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(leaks.is_empty(), "canaries leaked to: {leaks:#?}");
    let items: usize = grouped.values().map(Vec::len).sum();
    println!(
        "leak scan: {} canaries × {} encodings ({} forms each) × {} places ({:?}; {items} responses, \
         logs, outputs and files, {} MB) = {searches} searches, none found; control found in every place and \
         encoding; {:.1} s",
        s.canaries.len(),
        ENCODINGS.len(),
        forms(&s.canaries[0]).len(),
        grouped.len(),
        grouped.keys().collect::<Vec<_>>(),
        bytes_scanned / 1_000_000,
        started.elapsed().as_secs_f64()
    );
}
