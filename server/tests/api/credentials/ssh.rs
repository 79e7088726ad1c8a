//! SSH credentials (`provider: "ssh"`) and environments on a cluster reached over SSH: the key is
//! decoded before it is accepted and never comes back (only its fingerprint), and the grid
//! settings are checked per field, with messages naming the field.

use super::{pool, Ws};
use crate::helpers::*;
use crate::identities::TestKey;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn ssh_credentials_are_write_only_and_show_the_key_fingerprint() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "hpc").await;
    let ws = Ws { app: &app, id: ws_id };
    let key = TestKey::new(Some("open sesame"));
    let body = json!({"credentials": {"name": "cluster-key", "provider": "ssh",
        "keys": {"privateKey": key.private_key, "passphrase": "open sesame"}}});
    let (status, created) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["credentialsId"].as_str().unwrap().to_string();
    let (_, described) = ws.call(&admin, Method::GET, &format!("/api/credentials/{id}"), Value::Null).await;
    let keys = &described["credentials"]["keys"];
    assert_eq!(described["credentials"]["provider"], "ssh");
    assert_eq!(keys["sshKeyFingerprint"], key.fingerprint.as_str(), "{described}");
    let (_, listed) =
        ws.call(&admin, Method::GET, "/api/credentials?platformId=slurm-platform", Value::Null).await;
    assert_eq!(listed["credentials"].as_array().unwrap().len(), 1, "{listed}");
    for text in [described.to_string(), listed.to_string()] {
        assert!(!text.contains(&key.canary()) && !text.contains("open sesame"), "{text}");
    }
    // Sealed at rest: neither the key nor the passphrase is in any column.
    let pool = pool(&app).await;
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT public_keys, ciphertext FROM credentials").fetch_all(&pool).await.unwrap();
    for (public, sealed) in rows {
        assert!(!public.contains(&key.canary()), "{public}");
        assert!(!String::from_utf8_lossy(&sealed).contains(&key.canary()));
    }
    pool.close().await;

    // A wrong passphrase, a public key, AWS fields: refused, and the key is never quoted.
    let cases = [
        (json!({"privateKey": key.private_key, "passphrase": "wrong"}), "passphrase"),
        (json!({"privateKey": key.private_key}), "passphrase"),
        (json!({"privateKey": key.public_key}), "public key"),
        (json!({"privateKey": key.private_key, "secretKey": "x"}), "privateKey and passphrase only"),
    ];
    for (keys, says) in cases {
        let body = json!({"credentials": {"name": "bad", "provider": "ssh", "keys": keys}});
        let (status, refusal) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{says}: {refusal}");
        let message = refusal["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {message}");
        assert!(!message.contains(&key.canary()), "{message}");
    }
}

#[tokio::test]
async fn cluster_environments_over_ssh_are_checked_per_field_and_read_back_as_written() {
    let app = spawn_app().await;
    let admin = app.setup_admin().await;
    let (_, ws_id) = app.org_and_workspace(&admin, "hpc").await;
    let ws = Ws { app: &app, id: ws_id };
    let key = TestKey::new(None);
    let body = json!({"credentials": {"name": "cluster-key", "provider": "ssh",
        "keys": {"privateKey": key.private_key}}});
    let (_, created) = ws.call(&admin, Method::POST, "/api/credentials", body).await;
    let ssh_id = created["credentialsId"].as_str().unwrap().to_string();
    let aws_id = ws.aws_credentials(&admin, "aws", &super::secret_canary()).await;
    let config = json!({"discriminator": "slurm-platform", "hostName": "login.hpc.example.org", "port": 2222,
        "userName": "pipelines", "workDir": "/scratch/pipelines", "launchDir": "/scratch/pipelines/launch",
        "headQueue": "long", "computeQueue": "short", "headJobOptions": "--mem 4G --time '2-00:00'",
        "preRunScript": "module load nextflow\n", "postRunScript": "echo done", "nextflowConfig": "process.cpus = 2",
        "environment": [{"name": "NXF_OPTS", "value": "-Xmx2g", "head": true, "compute": false}],
        "hostKeyFingerprint": key.fingerprint});
    let env = |config: Value, creds: Option<&str>| {
        json!({"computeEnv": {"name": "slurm-ssh",
        "platform": "slurm-platform", "credentialsId": creds, "config": config}})
    };
    let (status, created) =
        ws.call(&admin, Method::POST, "/api/compute-envs", env(config.clone(), Some(&ssh_id))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["computeEnvId"].as_str().unwrap();
    let (_, described) = ws.call(&admin, Method::GET, &format!("/api/compute-envs/{id}"), Value::Null).await;
    assert_eq!(described["computeEnv"]["config"], config, "read back as written");

    // An edit that leaves out the pinned key keeps it for the same host.
    let mut edited = config.clone();
    edited.as_object_mut().unwrap().remove("hostKeyFingerprint");
    edited["headQueue"] = json!("longer");
    let (status, _) =
        ws.call(&admin, Method::PUT, &format!("/api/compute-envs/{id}"), json!({"config": edited})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, described) = ws.call(&admin, Method::GET, &format!("/api/compute-envs/{id}"), Value::Null).await;
    assert_eq!(described["computeEnv"]["config"]["hostKeyFingerprint"], key.fingerprint.as_str());

    let with = |field: &str, value: Value| {
        let mut c = config.clone();
        c[field] = value;
        c
    };
    let refusals = [
        (env(with("hostName", json!("-oProxyCommand=sh")), Some(&ssh_id)), "hostName"),
        (env(with("userName", json!("root;id")), Some(&ssh_id)), "userName"),
        // The Strongroom host itself and its network only when an instance administrator lists them.
        (env(with("hostName", json!("127.0.0.1")), Some(&ssh_id)), "STRONGROOM_ENDPOINT_ALLOW"),
        (env(with("hostName", json!("169.254.169.254")), Some(&ssh_id)), "STRONGROOM_ENDPOINT_ALLOW"),
        (env(with("workDir", json!("/scratch/$(id)")), Some(&ssh_id)), "workDir"),
        (env(with("port", json!(70000)), Some(&ssh_id)), "port"),
        (env(with("headJobOptions", json!("--mem '4G")), Some(&ssh_id)), "headJobOptions"),
        (env(with("hostKeyFingerprint", json!("MD5:00")), Some(&ssh_id)), "hostKeyFingerprint"),
        (env(with("launchCommand", json!("sbatch x")), Some(&ssh_id)), "launchCommand"),
        (
            env(
                with("environment", json!([{"name": "NXF_SECRETS_FILE", "value": "/tmp/x", "head": true}])),
                Some(&ssh_id),
            ),
            "NXF_SECRETS_FILE",
        ),
        (env(config.clone(), None), "ssh credentials"),
        (env(config.clone(), Some(&aws_id)), "ssh credentials"),
        (
            json!({"computeEnv": {"name": "managed", "platform": "slurm-platform", "managedIdentityId": "999999",
                "config": {"workDir": "/scratch"}}}),
            "managed identity",
        ),
    ];
    for (body, field) in refusals {
        let (status, refusal) = ws.call(&admin, Method::POST, "/api/compute-envs", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {refusal}");
        let message = refusal["message"].as_str().unwrap();
        assert!(message.contains(field), "{field}: {message}");
    }
}
