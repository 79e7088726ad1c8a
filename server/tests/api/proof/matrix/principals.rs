//! The eleven principals of the matrix and the world they act in: one workspace (org "matrix")
//! with a participant of each role, a signed-in account that takes part in nothing, the owner of
//! another organization's workspace, the instance administrator, a signed-out visitor and a run
//! token; plus one of every object, so each route parameter has a real id.

use crate::helpers::*;
use crate::proof::db_dump::scalar;
use crate::proof::seed::{seed, Seeded, OWNER_EMAIL};
use app::model::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Principal {
    Member(Role),
    NonMember,
    SignedOut,
    /// The owner of a workspace in another organization.
    OtherWorkspace,
    InstanceAdmin,
    /// The token a launch gives its run (`TOWER_ACCESS_TOKEN`).
    RunToken,
}

impl Principal {
    pub fn all() -> Vec<Principal> {
        let mut all: Vec<Principal> = Role::ALL.into_iter().map(Principal::Member).collect();
        all.extend([
            Principal::NonMember,
            Principal::SignedOut,
            Principal::OtherWorkspace,
            Principal::InstanceAdmin,
            Principal::RunToken,
        ]);
        all
    }

    /// The account's email, for principals that have one.
    pub fn email(self) -> Option<String> {
        match self {
            Principal::Member(Role::Owner) => Some(OWNER_EMAIL.to_string()),
            Principal::Member(role) => Some(format!("role-{role}@example.org")),
            Principal::NonMember => Some("outsider@example.org".into()),
            Principal::OtherWorkspace => Some("other-owner@example.org".into()),
            Principal::InstanceAdmin => Some(ADMIN_EMAIL.into()),
            Principal::SignedOut | Principal::RunToken => None,
        }
    }

    pub fn label(self) -> String {
        match self {
            Principal::Member(role) => role.to_string(),
            other => format!("{other:?}"),
        }
    }
}

/// Everything the matrix's requests refer to.
pub struct World {
    pub seeded: Seeded,
    pub org: i64,
    pub ws: i64,
    pub other_org: i64,
    pub other_ws: i64,
    /// The participant whose role the role-change calls set (not one of the principals).
    pub spare_user_email: String,
    pub identity: i64,
    /// The HPC work root new Slurm environments' work directories go under.
    pub work_root: String,
    /// The owner's cluster credentials on `identity`.
    pub owner_cluster_credentials: i64,
    /// Each principal's client (sessions are fixed cookies, so a sign-in answer's `Set-Cookie`
    /// cannot replace them).
    clients: Vec<(Principal, Client)>,
    counter: AtomicU64,
}

/// A fixed-cookie session for `email`.
pub async fn session(app: &TestApp, email: &str) -> Client {
    client_with_cookie(&app.login_cookie(email, PASSWORD).await)
}

pub async fn ok(app: &TestApp, who: &Client, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = app.send_json(who, method, path, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// An id from a JSON answer, whether the API spells it as a number or a string.
pub fn id_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an id: {other}"),
    }
}

/// A token bound to run `wf`, stored the way the launch stores one (SHA-256 of the token, the
/// launcher as its user, the run as its scope). Made directly because the matrix runs without
/// background workers, so no launch command runs to hand one over (`run_tokens.rs` covers that
/// path); everything after this, the token's check on each request, is the server's own.
pub async fn mint_run_token(app: &TestApp, wf: &str) -> String {
    let token = format!("sr_matrix{}", uuid::Uuid::new_v4().simple());
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let launcher = scalar(app, &format!("SELECT launched_by FROM runs WHERE id = '{wf}'")).await;
    let now = chrono_ms();
    app.run_sql(&format!(
        "INSERT INTO access_tokens (user_id, name, token_hash, created_at, expires_at, run_id) \
         VALUES ({launcher}, 'run {wf}', '{hash}', {now}, {}, '{wf}')",
        now + 3_600_000
    ))
    .await;
    token
}

fn chrono_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl World {
    pub async fn build(app: &TestApp) -> World {
        let seeded = seed(app).await;
        let admin = seeded.admin.clone();
        let owner_client = session(app, OWNER_EMAIL).await;
        let org: i64 = seeded.ids["org_id"][0].parse().unwrap();
        let ws = seeded.workspace_id;
        let mut clients = vec![(Principal::Member(Role::Owner), owner_client.clone())];
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Owner) {
            let email = Principal::Member(role).email().unwrap();
            app.user(&admin, &email).await;
            app.add_participant(&owner_client, org, ws, &email, role.as_str()).await;
            clients.push((Principal::Member(role), session(app, &email).await));
        }
        let outsider = Principal::NonMember.email().unwrap();
        app.user(&admin, &outsider).await;
        clients.push((Principal::NonMember, session(app, &outsider).await));
        let other_email = Principal::OtherWorkspace.email().unwrap();
        let other = app.user(&admin, &other_email).await;
        let (other_org, other_ws) = app.org_and_workspace(&other, "elsewhere").await;
        clients.push((Principal::OtherWorkspace, session(app, &other_email).await));
        clients.push((Principal::InstanceAdmin, session(app, ADMIN_EMAIL).await));
        clients.push((Principal::SignedOut, client_with_cookie("no-session=1")));
        let run_token = mint_run_token(app, &seeded.ids["workflow_id"][0]).await;
        clients.push((Principal::RunToken, client_with_bearer(&run_token)));

        let spare_user_email = "spare@example.org".to_string();
        app.user(&admin, &spare_user_email).await;
        app.add_participant(&owner_client, org, ws, &spare_user_email, "view").await;

        let mut world = World {
            seeded,
            org,
            ws,
            other_org,
            other_ws,
            spare_user_email,
            identity: 0,
            work_root: app.work_root.path().display().to_string(),
            owner_cluster_credentials: 0,
            clients,
            counter: AtomicU64::new(1),
        };
        world.identity = world.new_identity(app).await.parse().unwrap();
        let owner = world.client(Principal::Member(Role::Owner));
        let mc = world.register_cluster_credentials(app, &owner, world.identity).await;
        world.owner_cluster_credentials = mc.expect("the owner registers").parse().unwrap();
        world
    }

    pub fn client(&self, who: Principal) -> Client {
        self.clients.iter().find(|(p, _)| *p == who).map(|(_, c)| c.clone()).unwrap()
    }

    pub fn owner(&self) -> Client {
        self.client(Principal::Member(Role::Owner))
    }

    /// A number no other request of this test used, for names that must be new.
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// The ids every request refers to unless its pair made a fresh object: this workspace's.
    pub fn ids(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("org_id", self.org.to_string()),
            ("workspace_id", self.ws.to_string()),
            ("secret_id", self.secret_id()),
            ("compute_env_id", self.compute_env_id()),
            ("credentials_id", self.credentials_id()),
            ("managed_identity_id", self.identity.to_string()),
            ("identity_id", self.identity.to_string()),
            ("managed_credentials_id", self.owner_cluster_credentials.to_string()),
            ("workflow_id", self.workflow_id()),
            ("participant_id", self.participant_id()),
            ("token_id", self.seeded.ids["token_id"][0].clone()),
            ("rest", "no/such/route".to_string()),
            ("login_email", self.spare_user_email.clone()),
            ("work_root", self.work_root.clone()),
        ])
    }

    pub fn secret_id(&self) -> String {
        self.seeded.ids["secret_id"][0].clone()
    }

    pub fn compute_env_id(&self) -> String {
        self.seeded.ids["compute_env_id"][0].clone()
    }

    pub fn credentials_id(&self) -> String {
        self.seeded.ids["credentials_id"][0].clone()
    }

    pub fn workflow_id(&self) -> String {
        self.seeded.ids["workflow_id"][0].clone()
    }

    pub fn participant_id(&self) -> String {
        self.seeded.ids["participant_id"][0].clone()
    }

    pub async fn new_secret(&self, app: &TestApp) -> String {
        let body = json!({"name": format!("FRESH_{}", self.next()), "value": "fresh-value"});
        let path = format!("/api/pipeline-secrets?workspaceId={}", self.ws);
        id_of(&ok(app, &self.owner(), Method::POST, &path, body).await["secretId"])
    }

    /// A Slurm environment with a work directory under the test's HPC work root.
    pub fn compute_env_body(&self, app: &TestApp) -> Value {
        let n = self.next();
        let work_dir = app.work_root.path().join(format!("ce{n}"));
        json!({"computeEnv": {"name": format!("ce{n}"), "platform": "slurm-platform",
            "config": {"workDir": work_dir.display().to_string()}}})
    }

    pub async fn new_compute_env(&self, app: &TestApp) -> String {
        let path = format!("/api/compute-envs?workspaceId={}", self.ws);
        let body = self.compute_env_body(app);
        id_of(&ok(app, &self.owner(), Method::POST, &path, body).await["computeEnvId"])
    }

    pub fn credentials_body(&self) -> Value {
        json!({"credentials": {"name": format!("aws{}", self.next()), "provider": "aws", "keys": {
            "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": "matrix-secret-key-material"
        }}})
    }

    pub async fn new_credentials(&self, app: &TestApp) -> String {
        let path = format!("/api/credentials?workspaceId={}", self.ws);
        id_of(&ok(app, &self.owner(), Method::POST, &path, self.credentials_body()).await["credentialsId"])
    }

    pub fn identity_body(&self) -> Value {
        json!({"name": format!("cluster{}", self.next()), "platform": "slurm-platform",
            "config": {"hostName": "login.hpc.example.org"}})
    }

    pub async fn new_identity(&self, app: &TestApp) -> String {
        let path = format!("/api/identities?orgId={}", self.org);
        id_of(&ok(app, &self.owner(), Method::POST, &path, self.identity_body()).await["id"])
    }

    /// `who` registers cluster credentials on `identity`; `None` when refused.
    pub async fn register_cluster_credentials(
        &self,
        app: &TestApp,
        who: &Client,
        identity: i64,
    ) -> Option<String> {
        self.register_cluster_credentials_in(app, who, self.org, identity).await
    }

    /// As `register_cluster_credentials`, on an identity of organization `org`.
    pub async fn register_cluster_credentials_in(
        &self,
        app: &TestApp,
        who: &Client,
        org: i64,
        identity: i64,
    ) -> Option<String> {
        let key = crate::identities::TestKey::new(None);
        let path = format!("/api/identities/{identity}/credentials?orgId={org}");
        let (status, body) =
            app.send_json(who, Method::POST, &path, key.request(&format!("acct{}", self.next()))).await;
        status.is_success().then(|| id_of(&body["managedCredentials"]["id"]))
    }

    /// A run launched by the owner (no workers run, so it stays live), and a run token for it.
    pub async fn new_run(&self, app: &TestApp) -> (String, String) {
        let path = format!("/api/workflow/launch?workspaceId={}", self.ws);
        let body = json!({"launch": {"pipeline": "nf-core/demo", "computeEnvId": self.compute_env_id()}});
        let wf = id_of(&ok(app, &self.owner(), Method::POST, &path, body).await["workflowId"]);
        let token = mint_run_token(app, &wf).await;
        (wf, token)
    }

    /// A new account; returns its email and user id.
    pub async fn new_account(&self, app: &TestApp) -> (String, String) {
        let email = format!("fresh{}@example.org", self.next());
        let response = app
            .sfn(
                &self.seeded.admin,
                "create_user",
                &[("email", &email), ("display_name", "Fresh"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let user: Value = response.json().await.unwrap();
        (email, id_of(&user["id"]))
    }

    /// A new account taking part in the workspace as a viewer; returns the participant id.
    pub async fn new_participant(&self, app: &TestApp) -> String {
        let (email, _) = self.new_account(app).await;
        app.add_participant(&self.owner(), self.org, self.ws, &email, "view").await.to_string()
    }

    /// An access token of `who`'s own; returns its id.
    pub async fn new_token(&self, app: &TestApp, who: &Client) -> Option<String> {
        let body = json!({"name": format!("t{}", self.next())});
        let (status, answer) = app.send_json(who, Method::POST, "/api/tokens", body).await;
        status.is_success().then(|| id_of(&answer["token"]["id"]))
    }
}
