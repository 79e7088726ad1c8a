//! Strongroom as an OIDC issuer, checked from outside: an independent verifier (PyJWT, fetching
//! the discovery document and the JWKS over HTTP from the running server) validates the tokens
//! the server's signer issues, and refuses them after expiry, for another audience and once their
//! key is retired.

mod aws_managed;
mod azure_managed;
mod google_hostile;
mod google_managed;
mod issuer;

use crate::fakes::moto::Moto;
use crate::fakes::sts::Trust;
use crate::helpers::TestApp;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use server::oidc::claims::RunFacts;
use server::oidc::Issuer;
use std::collections::{HashMap, HashSet};

/// The verifier's answer: `Ok(claims)` or `Err(PyJWT's error class and message)`.
pub async fn verify(
    app: &TestApp,
    audience: &str,
    token: &str,
    ignore_expiry: bool,
) -> Result<Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/oidc/verify.py");
    let mut command = tokio::process::Command::new("python3");
    command.args([script, &issuer_of(app), audience, token]);
    if ignore_expiry {
        command.arg("--ignore-expiry");
    }
    let output = command.output().await.expect("python3 runs");
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "the verifier printed no JSON (is PyJWT installed? scripts/lib.sh ensure_pyjwt): {} {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    if answer["ok"] == true {
        Ok(answer["claims"].clone())
    } else {
        Err(answer["error"].as_str().unwrap_or_default().to_string())
    }
}

/// The issuer URL of a test app: its public URL.
pub fn issuer_of(app: &TestApp) -> String {
    app.url("").trim_end_matches('/').to_string()
}

/// The server's own signer on the app's keys directory (what a launch uses to mint a run's token).
pub fn signer(app: &TestApp, lifetime_secs: u64) -> Issuer {
    let config = Config {
        public_url: issuer_of(app),
        data_dir: app.data_dir.path().to_path_buf(),
        oidc_token_lifetime_secs: lifetime_secs,
        ..Config::default()
    };
    Issuer::from_config(&config).expect("the issuer opens the app's keys")
}

pub fn facts(user_id: i64) -> RunFacts {
    RunFacts {
        org_id: 4,
        workspace_id: 9,
        user_id,
        pipeline: "https://github.com/nf-core/rnaseq".into(),
        workflow_id: Some("4xYzW".into()),
        compute_env_id: "ce9".into(),
        launch_role: "launch".into(),
    }
}

pub fn now() -> i64 {
    server::clock::now_ms() / 1000
}

/// The signed-in user's id.
pub async fn user_id(app: &TestApp, who: &Client) -> i64 {
    let (status, info) = app.get_json(who, "/api/user-info").await;
    assert_eq!(status, StatusCode::OK);
    info["user"]["id"].as_i64().unwrap()
}

/// Creates a compute environment in `ws` as `owner`; its id.
pub async fn create_env(
    app: &TestApp,
    owner: &Client,
    ws: i64,
    name: &str,
    platform: &str,
    config: Value,
) -> String {
    let (status, env) = app.create_compute_env(owner, ws, name, platform, config).await;
    assert_eq!(status, StatusCode::OK, "{env}");
    env["computeEnvId"].as_str().unwrap().to_string()
}

/// The Check of `env` as `who`: the validation answer (status 200 whatever the verdict).
pub async fn check(app: &TestApp, who: &Client, ws: i64, env: &str) -> Value {
    let (status, body) = app
        .send_json(
            who,
            Method::POST,
            &format!("/api/compute-envs/{env}/validate?workspaceId={ws}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// What the STS stand-in's account trusts: the issuer as its IAM OIDC provider with `audiences`,
/// and per role the subjects its trust policy allows.
pub fn aws_trust(issuer: &str, audiences: &[&str], roles: &[(&str, &str)]) -> Trust {
    let mut by_role: HashMap<String, HashSet<String>> = HashMap::new();
    for (role, sub) in roles {
        by_role.entry(role.to_string()).or_default().insert(sub.to_string());
    }
    Trust {
        provider_url: Some(issuer.to_string()),
        audiences: audiences.iter().map(|a| a.to_string()).collect(),
        roles: by_role,
    }
}

/// The environment of run `wf`'s head job, as moto's Batch holds it.
pub async fn head_job_environment(moto: &Moto, wf: &str) -> HashMap<String, String> {
    let jobs = moto.jobs_named(&format!("sr-{wf}")).await;
    jobs[0]
        .container()
        .unwrap()
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap_or_default().to_string(), kv.value().unwrap_or_default().to_string()))
        .collect()
}
