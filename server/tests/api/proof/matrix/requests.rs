//! One well-formed request per operation, so that a principal the table allows gets a 2xx (a
//! refusal must come from authorization, never from a bad body), with each principal's fresh
//! objects made first (`prepare`).

use super::expectations::Fresh;
use super::principals::{session, Principal, World};
use crate::helpers::*;
use crate::identities::TestKey;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Body,
}

impl Req {
    pub async fn send(&self, app: &TestApp, who: &Client) -> reqwest::Response {
        let request = who.request(self.method.clone(), app.url(&self.path));
        let request = match &self.body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Form(fields) => request.form(fields),
        };
        request.send().await.unwrap()
    }
}

/// The fresh objects made for one (operation, principal) pair: ids by the parameter names of
/// route templates and server functions, and the client to send with when the pair needs its own
/// (a fresh session, a fresh run's token).
#[derive(Default)]
pub struct Target {
    pub ids: BTreeMap<&'static str, String>,
    pub client: Option<Client>,
}

pub async fn prepare(app: &TestApp, world: &World, fresh: Fresh, who: Principal) -> Target {
    let mut target = Target::default();
    let ids = &mut target.ids;
    match fresh {
        Fresh::Nothing => {}
        Fresh::WorkspaceSecret => {
            ids.insert("secret_id", world.new_secret(app).await);
        }
        Fresh::ComputeEnv => {
            ids.insert("compute_env_id", world.new_compute_env(app).await);
        }
        Fresh::Credentials => {
            ids.insert("credentials_id", world.new_credentials(app).await);
        }
        Fresh::Identity => {
            let identity = world.new_identity(app).await;
            ids.insert("managed_identity_id", identity.clone());
            ids.insert("identity_id", identity);
        }
        Fresh::OwnClusterCredentials => {
            let identity = world.new_identity(app).await;
            let number: i64 = identity.parse().unwrap();
            let credentials = match world.register_cluster_credentials(app, &world.client(who), number).await
            {
                Some(id) => id,
                None => world.register_cluster_credentials(app, &world.owner(), number).await.unwrap(),
            };
            ids.insert("managed_identity_id", identity.clone());
            ids.insert("identity_id", identity);
            ids.insert("managed_credentials_id", credentials);
        }
        Fresh::Run => {
            let (wf, token) = world.new_run(app).await;
            ids.insert("workflow_id", wf);
            if who == Principal::RunToken {
                target.client = Some(client_with_bearer(&token));
            }
        }
        Fresh::Participant => {
            ids.insert("participant_id", world.new_participant(app).await);
        }
        Fresh::Account => {
            let (email, user_id) = world.new_account(app).await;
            ids.insert("email", email);
            ids.insert("user_id", user_id);
        }
        Fresh::OwnToken => {
            let id = match world.new_token(app, &world.client(who)).await {
                Some(id) => id,
                None => world.new_token(app, &world.owner()).await.unwrap(),
            };
            ids.insert("token_id", id);
        }
        Fresh::OwnSession => {
            if let Some(email) = who.email() {
                target.client = Some(session(app, &email).await);
            }
        }
    }
    target
}

/// Ids by parameter name: one workspace's objects, which every request of a principal refers
/// to unless its pair made a fresh one.
pub type Ids = BTreeMap<&'static str, String>;

/// The id a parameter takes: the pair's fresh object, or the scope's shared one.
fn id(ids: &Ids, target: &Target, name: &str) -> String {
    target
        .ids
        .get(name)
        .or_else(|| ids.get(name))
        .cloned()
        .unwrap_or_else(|| panic!("the matrix has no id for the parameter {{{name}}}: add it to World::ids"))
}

/// `template` with each `{name}` (or `{*name}`) replaced by its id.
fn fill(template: &str, ids: &Ids, target: &Target) -> String {
    let mut path = template.to_string();
    while let Some(start) = path.find('{') {
        let end = start + path[start..].find('}').unwrap();
        let name = path[start + 1..end].trim_start_matches('*').to_string();
        path.replace_range(start..=end, &id(ids, target, &name));
    }
    path
}

/// The scope query a REST path needs: Seqera's `workspaceId` or `orgId`.
fn scope_query(path: &str, ids: &Ids, target: &Target) -> String {
    let workspace_scoped =
        ["/api/pipeline-secrets", "/api/compute-envs", "/api/credentials", "/api/workflow"];
    if workspace_scoped.iter().any(|p| path.starts_with(p)) {
        format!("workspaceId={}", id(ids, target, "workspace_id"))
    } else if path.starts_with("/api/identities") {
        format!("orgId={}", id(ids, target, "org_id"))
    } else {
        String::new()
    }
}

pub fn rest(key: &str, app: &TestApp, world: &World, ids: &Ids, target: &Target) -> Req {
    let (method, template) = key.split_once(' ').unwrap();
    let method = if method == "ANY" { Method::GET } else { method.parse().unwrap() };
    let n = world.next();
    let mut query = scope_query(template, ids, target);
    let body = match (method.as_str(), template) {
        ("POST", "/api/orgs") => {
            json!({"organization": {"name": format!("mx{n}"), "fullName": format!("Matrix {n}")}})
        }
        ("POST", "/api/orgs/{org_id}/workspaces") => {
            json!({"workspace": {"name": format!("w{n}"), "fullName": format!("W {n}"), "visibility": "PRIVATE"}})
        }
        ("POST", "/api/pipeline-secrets") => json!({"name": format!("NEW_{n}"), "value": "matrix-value"}),
        ("PUT", "/api/pipeline-secrets/{secret_id}") => json!({"value": format!("matrix-value-{n}")}),
        ("POST", "/api/compute-envs") => world.compute_env_body(app),
        ("PUT", "/api/compute-envs/{compute_env_id}") => json!({"name": format!("renamed{n}")}),
        ("POST", "/api/credentials") => world.credentials_body(),
        ("PUT", "/api/credentials/{credentials_id}") => json!({"credentials": {"keys": {
            "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": "matrix-rotated-key-material"}}}),
        ("POST", "/api/identities") => world.identity_body(),
        ("PUT", "/api/identities/{managed_identity_id}") => {
            json!({"managedIdentity": {"name": format!("renamed{n}")}})
        }
        ("POST", "/api/identities/{managed_identity_id}/credentials")
        | ("PUT", "/api/identities/{managed_identity_id}/credentials/{managed_credentials_id}") => {
            TestKey::new(None).request(&format!("acct{n}"))
        }
        ("POST", "/api/workflow/launch") => {
            json!({"launch": {"pipeline": "nf-core/demo", "computeEnvId": id(ids, target, "compute_env_id")}})
        }
        ("POST", "/api/trace/create") => json!({"workflowId": id(ids, target, "workflow_id")}),
        ("PUT", "/api/trace/{workflow_id}/complete") => json!({"workflow": {"success": true}}),
        ("PUT", _) if template.starts_with("/api/trace/") => json!({}),
        ("POST", "/api/tokens") => json!({"name": format!("t{n}")}),
        ("PUT", "/api/workspaces/{workspace_id}/host-identity") => json!({"allowed": false}),
        ("PUT", "/api/orgs/{org_id}/workspaces/{workspace_id}/participants/add") => {
            json!({"userNameOrEmail": id(ids, target, "email"), "role": "view"})
        }
        ("PUT", "/api/orgs/{org_id}/workspaces/{workspace_id}/participants/{participant_id}/role") => {
            json!({"role": "launch"})
        }
        ("GET", "/api/pipeline-secrets/validate") => {
            query.push_str(&format!("&name=FREE_{n}"));
            Value::Null
        }
        ("GET" | "DELETE", _) => Value::Null,
        ("POST", _) => json!({}),
        _ => panic!("the matrix has no request for {key}: add one to requests::rest"),
    };
    let mut path = fill(template, ids, target);
    if !query.is_empty() {
        path = format!("{path}?{query}");
    }
    let body = if body.is_null() { Body::None } else { Body::Json(body) };
    Req { method, path, body }
}

pub fn server_function(key: &str, world: &World, ids: &Ids, target: &Target) -> Req {
    let name = key.strip_prefix("POST /sfn/").unwrap();
    let n = world.next();
    let id = |param: &str| id(ids, target, param);
    let s = |k: &str, v: &str| (k.to_string(), v.to_string());
    let (org, ws) = (s("org_id", &id("org_id")), s("workspace_id", &id("workspace_id")));
    let key_fields = |with_credentials: bool| {
        let mut fields = vec![s("org_id", &id("org_id")), s("identity_id", &id("identity_id"))];
        if with_credentials {
            fields.push(s("credentials_id", &id("managed_credentials_id")));
        }
        fields.push(s("user_name", &format!("acct{n}")));
        fields.push(s("private_key", &TestKey::new(None).private_key));
        fields.push(s("passphrase", ""));
        fields
    };
    let fields: Vec<(String, String)> = match name {
        "session_user"
        | "needs_setup"
        | "logout"
        | "list_users"
        | "instance_audit"
        | "list_orgs"
        | "list_tokens"
        | "your_cluster_credentials" => vec![],
        "setup" => vec![s("email", "late@example.org"), s("display_name", "Late"), s("password", PASSWORD)],
        "login" => vec![s("email", &id("login_email")), s("password", PASSWORD)],
        "change_password" => {
            vec![s("current_password", PASSWORD), s("new_password", "a new password for the matrix")]
        }
        "create_user" => {
            vec![
                s("email", &format!("made{n}@example.org")),
                s("display_name", "Made"),
                s("password", PASSWORD),
            ]
        }
        "set_user_disabled" => vec![s("user_id", &id("user_id")), s("disabled", "true")],
        "workspace_audit" | "workspace_view" | "list_participants" => vec![org, ws],
        "create_org" => vec![s("name", &format!("mo{n}")), s("full_name", "Made org"), s("description", "")],
        "list_workspaces" | "list_identities" => vec![org],
        "create_workspace" => {
            vec![org, s("name", &format!("mw{n}")), s("full_name", "Made"), s("description", "")]
        }
        "list_secrets" => vec![ws, s("search", "")],
        "validate_secret_name" => vec![ws, s("name", &format!("FREE_{n}"))],
        "create_secret" => vec![ws, s("name", &format!("SF_{n}")), s("value", "matrix-value")],
        "update_secret" => vec![ws, s("secret_id", &id("secret_id")), s("value", "matrix-value-2")],
        "delete_secret" => vec![ws, s("secret_id", &id("secret_id"))],
        "list_compute_envs" | "list_credentials" | "launch_options" | "list_runs" => vec![ws],
        "create_compute_env" => {
            let work_dir = format!("{}/sfn{n}", id("work_root"));
            vec![
                ws,
                s("name", &format!("sfn{n}")),
                s("platform", "slurm-platform"),
                s("credentials_id", "0"),
                s("config[workDir]", &work_dir),
            ]
        }
        "delete_compute_env" | "check_compute_env" | "cloud_identity_view" => {
            vec![ws, s("compute_env_id", &id("compute_env_id"))]
        }
        "create_credentials" => vec![
            ws,
            s("name", &format!("awsui{n}")),
            s("provider", "aws"),
            s("access_key", "AKIAIOSFODNN7EXAMPLE"),
            s("secret_key", "matrix-secret-key-material"),
            s("assume_role_arn", ""),
            s("external_id", ""),
            s("key_file", ""),
        ],
        "replace_credentials" => vec![
            ws,
            s("credentials_id", &id("credentials_id")),
            s("provider", "aws"),
            s("access_key", "AKIAIOSFODNN7EXAMPLE"),
            s("secret_key", "matrix-secret-key-material-2"),
            s("assume_role_arn", ""),
            s("external_id", ""),
            s("key_file", ""),
        ],
        "delete_credentials" => vec![ws, s("credentials_id", &id("credentials_id"))],
        "add_participant" => vec![org, ws, s("email", &id("email")), s("role", "view")],
        "set_participant_role" => {
            vec![org, ws, s("participant_id", &id("participant_id")), s("role", "launch")]
        }
        "remove_participant" => vec![org, ws, s("participant_id", &id("participant_id"))],
        "launch_run" => vec![
            ws,
            s("request[pipeline]", "nf-core/demo"),
            s("request[compute_env_id]", &id("compute_env_id")),
        ],
        "describe_run" | "cancel_run" => vec![ws, s("workflow_id", &id("workflow_id"))],
        "create_token" => vec![s("name", &format!("st{n}"))],
        "delete_token" => vec![s("token_id", &id("token_id"))],
        "create_identity" => vec![
            org,
            s("name", &format!("ui{n}")),
            s("platform", "slurm-platform"),
            s("host_name", "login.hpc.example.org"),
            s("port", "22"),
            s("host_key_fingerprint", ""),
        ],
        "update_identity" => vec![
            org,
            s("identity_id", &id("identity_id")),
            s("name", &format!("uiren{n}")),
            s("host_name", "login.hpc.example.org"),
            s("port", "22"),
            s("host_key_fingerprint", ""),
        ],
        "delete_identity" | "list_identity_members" => vec![org, s("identity_id", &id("identity_id"))],
        "add_cluster_credentials" => key_fields(false),
        "replace_cluster_credentials" => key_fields(true),
        "delete_cluster_credentials" => {
            vec![
                org,
                s("identity_id", &id("identity_id")),
                s("credentials_id", &id("managed_credentials_id")),
            ]
        }
        other => panic!("the matrix has no request for the server function {other}: add one to requests"),
    };
    Req { method: Method::POST, path: format!("/sfn/{name}"), body: Body::Form(fields) }
}

/// The request for operation `key` (`METHOD path-template`).
pub fn build(key: &str, app: &TestApp, world: &World, ids: &Ids, target: &Target) -> Req {
    if key.starts_with("POST /sfn/") {
        server_function(key, world, ids, target)
    } else {
        rest(key, app, world, ids, target)
    }
}
