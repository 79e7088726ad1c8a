//! `/api/identities…`: managed identities (one per cluster of an organization, managed by its
//! owners) and each member's own managed credentials (cluster account and SSH key), in Seqera's
//! shapes. Keys go in and never come out; credentials that a run still needs cannot change. This
//! module holds what the files below share: an organization with a workspace and members, real
//! SSH keys made by `ssh-keygen`, and the calls.

mod credentials;
mod in_use;
mod management;
mod rotation;
mod write_only;

use crate::helpers::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// A real OpenSSH key pair made for one test (so the key itself is a canary no other test makes).
pub(crate) struct TestKey {
    pub private_key: String,
    /// The `.pub` file's line.
    pub public_key: String,
    /// `ssh-keygen -lf` of the public half: `SHA256:…`.
    pub fingerprint: String,
    pub passphrase: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestKey {
    pub fn new(passphrase: Option<&str>) -> TestKey {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let status = std::process::Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-C",
                "strongroom-test",
                "-N",
                passphrase.unwrap_or_default(),
                "-f",
            ])
            .arg(&path)
            .status()
            .expect("ssh-keygen is installed (openssh-client)");
        assert!(status.success());
        let listed =
            std::process::Command::new("ssh-keygen").arg("-lf").arg(path.with_extension("pub")).output();
        let listed = String::from_utf8(listed.unwrap().stdout).unwrap();
        TestKey {
            private_key: std::fs::read_to_string(&path).unwrap(),
            public_key: std::fs::read_to_string(path.with_extension("pub")).unwrap(),
            fingerprint: listed.split_whitespace().nth(1).unwrap().to_string(),
            passphrase: passphrase.map(str::to_string),
            _dir: dir,
        }
    }

    /// A line of the key's body that holds private key bytes: found anywhere, the key leaked.
    pub fn canary(&self) -> String {
        let lines: Vec<&str> = self.private_key.lines().collect();
        lines[lines.len() - 3].to_string()
    }

    /// Seqera's `CreateManagedCredentialsRequest` for these keys and `user_name`.
    pub fn request(&self, user_name: &str) -> Value {
        let mut keys = json!({"privateKey": self.private_key});
        if let Some(passphrase) = &self.passphrase {
            keys["passphrase"] = json!(passphrase);
        }
        json!({
            "provider": "ssh",
            "credentials": {"provider": "ssh", "keys": keys},
            "metadata": {"userName": user_name},
        })
    }
}

/// An organization with one workspace, its owner (the instance administrator) and members.
pub(crate) struct Org<'a> {
    pub app: &'a TestApp,
    pub id: i64,
    pub ws_id: i64,
    pub owner: Client,
}

impl<'a> Org<'a> {
    pub async fn new(app: &'a TestApp, name: &str) -> Org<'a> {
        let owner = app.setup_admin().await;
        Org::owned_by(app, owner, name).await
    }

    pub async fn owned_by(app: &'a TestApp, owner: Client, name: &str) -> Org<'a> {
        let (id, ws_id) = app.org_and_workspace(&owner, name).await;
        Org { app, id, ws_id, owner }
    }

    /// A new user who takes part in the workspace with `role`.
    pub async fn member(&self, email: &str, role: &str) -> Client {
        let user = self.app.user(&self.owner, email).await;
        self.app.add_participant(&self.owner, self.id, self.ws_id, email, role).await;
        user
    }

    /// `path` with `orgId` added to its query.
    pub fn path(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}orgId={}", self.id)
    }

    pub async fn call(&self, who: &Client, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let path = self.path(path);
        if body.is_null() {
            let response = who.request(method, self.app.url(&path)).send().await.unwrap();
            let status = response.status();
            (status, response.json().await.unwrap_or(Value::Null))
        } else {
            self.app.send_json(who, method, &path, body).await
        }
    }

    /// Creates a Slurm identity as the owner; returns its id.
    pub async fn identity(&self, name: &str) -> i64 {
        let config = json!({"hostName": "login.hpc.example.org"});
        let body = json!({"name": name, "platform": "slurm-platform", "config": config});
        let (status, created) = self.call(&self.owner, Method::POST, "/api/identities", body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["id"].as_i64().expect("ids are numbers, as in Seqera's API")
    }

    /// Registers `who`'s credentials on the identity; returns their id.
    pub async fn credentials(&self, who: &Client, identity_id: i64, key: &TestKey, user_name: &str) -> i64 {
        let path = format!("/api/identities/{identity_id}/credentials");
        let (status, created) = self.call(who, Method::POST, &path, key.request(user_name)).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        created["managedCredentials"]["id"].as_i64().unwrap()
    }

    /// The identity's credentials list as `who` sees it, with `query` (e.g. `search=is:missing`).
    pub async fn list(&self, who: &Client, identity_id: i64, query: &str) -> Value {
        let path = format!("/api/identities/{identity_id}/credentials?{query}");
        let (status, list) = self.call(who, Method::GET, &path, Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list
    }
}

/// The cluster accounts (`metadata.userName`) of a credentials list, by member email; `None` for
/// a member who has not registered.
pub(crate) fn accounts(list: &Value) -> Vec<(String, Option<String>)> {
    list["managedCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let account = row["metadata"]["userName"].as_str().map(str::to_string);
            (row["userName"].as_str().unwrap().to_string(), account)
        })
        .collect()
}
