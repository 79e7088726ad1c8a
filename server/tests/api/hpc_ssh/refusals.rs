//! What a cluster admin is told: the host key pinned by the first Check (and a launch refused
//! until then), a host key that does not match, a key the cluster refuses, a work directory the
//! account cannot write, a managed identity checked by an admin without an account on it.

use super::*;

/// Nothing at all under the test's work directory.
fn nothing_written(site: &Site<'_>) {
    let mut entries = Vec::new();
    walk(&site.work_dir, &mut |path| entries.push(path.to_path_buf()));
    assert!(entries.is_empty(), "written on the cluster: {entries:?}");
}

async fn env_config(site: &Site<'_>, env: &str) -> Value {
    let (status, body) =
        site.app.get_json(&site.owner, &format!("/api/compute-envs/{env}?workspaceId={}", site.ws)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["computeEnv"]["config"].clone()
}

#[tokio::test]
async fn the_first_check_pins_the_host_key_and_launches_wait_for_it() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let key = &cluster.alice().private_key_pem;
    let env = site.shared_env("slurm-platform", cluster.port, "srtest-alice", key, None, json!({})).await;

    let (status, body) = site.try_launch(&site.owner, &env, "test/ok", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["message"],
        "Run Check on this compute environment first: it records the cluster's host key."
    );
    nothing_written(&site);

    let check = site.check(None, &env).await;
    assert_eq!(check["status"], "AVAILABLE", "{check}");
    let recorded = format!("Host key {} recorded.", cluster.host_key_fingerprint);
    assert_eq!(check["message"], recorded.as_str(), "{check}");
    assert_eq!(env_config(&site, &env).await["hostKeyFingerprint"], cluster.host_key_fingerprint.as_str());
    let again = site.check(None, &env).await;
    assert_eq!((again["status"].as_str(), again["message"].as_str()), (Some("AVAILABLE"), None), "{again}");

    let wf = site.launch(&site.owner, &env, "test/ok", &[]).await;
    let run = site.cleaned(&site.owner, &wf).await;
    assert_eq!(super::status(&run), "SUCCEEDED", "{run:#}");
}

#[tokio::test]
async fn a_managed_identity_is_checked_as_the_admins_account_or_for_its_host_key_only() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let identity = site.identity("hpc-main", None).await;
    let env = site.managed_env(identity).await;

    // The owner has no account on the identity: connection and host key only, and it says so.
    let check = site.check(None, &env).await;
    assert_eq!(check["status"], "AVAILABLE", "{check}");
    let said = check["message"].as_str().unwrap();
    assert!(said.starts_with(&format!("Host key {} recorded.", cluster.host_key_fingerprint)), "{said}");
    assert!(said.contains("Only the connection and the cluster's host key were checked"), "{said}");
    let path = format!("/api/identities/{identity}?orgId={}", site.org_id);
    let (_, described) = app.get_json(&site.owner, &path).await;
    assert_eq!(
        described.to_string().matches(cluster.host_key_fingerprint.as_str()).count(),
        1,
        "the identity's key is pinned: {described}"
    );

    // With an account of their own, the whole preflight runs as that account.
    site.register(&site.owner, identity, cluster.bob()).await;
    let check = site.check(None, &env).await;
    assert_eq!((check["status"].as_str(), check["message"].as_str()), (Some("AVAILABLE"), None), "{check}");
}

#[tokio::test]
async fn a_host_key_that_is_not_the_pinned_one_is_refused_before_anything_is_sent() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let (key, wrong) = (&cluster.alice().private_key_pem, cluster.other_host_key_fingerprint.as_str());
    let env =
        site.shared_env("slurm-platform", cluster.port, "srtest-alice", key, Some(wrong), json!({})).await;

    let check = site.check(None, &env).await;
    assert_eq!(check["status"], "INVALID", "{check}");
    let said = format!("{} {}", check["message"], check["fix"]);
    assert!(said.contains(wrong) && said.contains(&cluster.host_key_fingerprint), "both keys: {said}");
    let (status, body) = site.try_launch(&site.owner, &env, "test/ok", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains(wrong), "{body}");
    nothing_written(&site);
}

#[tokio::test]
async fn a_key_the_cluster_refuses_is_named_with_the_fix() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let fingerprint = Some(cluster.host_key_fingerprint.as_str());
    let stranger = &cluster.stranger_key_pem;
    let env = site
        .shared_env("slurm-platform", cluster.port, "srtest-alice", stranger, fingerprint, json!({}))
        .await;

    let check = site.check(None, &env).await;
    assert_eq!(check["status"], "INVALID", "{check}");
    let said = format!("{} {}", check["message"], check["fix"]);
    assert!(said.contains("srtest-alice") && said.contains("authorized_keys"), "{said}");
    nothing_written(&site);
}

#[tokio::test]
async fn a_work_directory_the_account_cannot_write_is_named_in_the_check() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let readonly = cluster.readonly_dir.display().to_string();
    let fingerprint = Some(cluster.host_key_fingerprint.as_str());
    let key = &cluster.alice().private_key_pem;
    let extra = json!({ "workDir": readonly });
    let env = site.shared_env("slurm-platform", cluster.port, "srtest-alice", key, fingerprint, extra).await;

    let check = site.check(None, &env).await;
    assert_eq!(check["status"], "INVALID", "{check}");
    let said = format!("{} {}", check["message"], check["fix"]);
    assert!(said.contains(&readonly) && said.contains("srtest-alice"), "{said}");
    let mut entries = Vec::new();
    walk(&cluster.readonly_dir, &mut |path| entries.push(path.to_path_buf()));
    assert!(entries.is_empty(), "{entries:?}");
}
