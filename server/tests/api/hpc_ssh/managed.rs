//! A managed identity: two members of one workspace launch on the same environment, and each
//! run executes, and each store is owned, as that member's own cluster account.

use super::*;

#[tokio::test]
async fn two_users_on_one_managed_identity_each_run_as_their_own_account() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let value = site.secret("DB_PASSWORD").await;
    let identity = site.identity("hpc-main", Some(&cluster.host_key_fingerprint)).await;
    let env = site.managed_env(identity).await;
    let alice = site.launcher("alice@example.org").await;
    let bob = site.launcher("bob@example.org").await;
    site.register(&alice, identity, cluster.alice()).await;
    site.register(&bob, identity, cluster.bob()).await;

    let runs = [
        (&alice, cluster.alice(), site.launch(&alice, &env, "test/ok", &["DB_PASSWORD"]).await),
        (&bob, cluster.bob(), site.launch(&bob, &env, "test/ok", &["DB_PASSWORD"]).await),
    ];
    for (who, account, wf) in &runs {
        let run = site.cleaned(who, wf).await;
        assert_eq!(status(&run), "SUCCEEDED", "{run:#}");
        let job = job_id(&run);
        assert_eq!(cluster.job_user(&job).as_deref(), Some(account.name.as_str()), "the Slurm job's owner");

        let proof = site.proof(wf);
        assert_eq!(proof["user"], account.name.as_str(), "{proof:#}");
        assert_eq!(proof["uid"], account.uid, "{proof:#}");
        assert_eq!(proof["store_mode"], "0600", "the store was created 0600: {proof:#}");
        assert_eq!(proof["dir_mode"], "0700", "in a 0700 directory: {proof:#}");
        assert_eq!(proof["digests"]["DB_PASSWORD"], sha256_hex(&value), "the value Nextflow read");
        assert_eq!(proof["slurm_job_id"], job.as_str());
        let store = proof["store"].as_str().unwrap();
        assert!(
            store.contains(&format!(".strongroom-{}/", account.name)),
            "each account's own directory: {store}"
        );
        assert!(site.leftovers(wf).is_empty(), "left on the cluster: {:?}", site.leftovers(wf));
    }

    // The accounts' directories stay private to each: the other cannot even list them.
    for (owner, other) in [(cluster.alice(), cluster.bob()), (cluster.bob(), cluster.alice())] {
        let dir = site.work_dir.join(format!(".strongroom-{}", owner.name));
        assert_eq!(crate::support::cluster::owner_uid(&dir), Some(owner.uid), "{}", dir.display());
        assert_eq!(crate::support::cluster::file_mode(&dir), Some(0o700), "{}", dir.display());
        let (code, listed) = cluster.run_as(&other.name, &format!("ls -A {}", dir.display()));
        assert_ne!(code, 0, "{} listed {}: {listed}", other.name, dir.display());
    }
    assert!(!site.all_text().contains(&value), "a value was written in clear outside the stores");
    assert!(!captured_logs().contains(&value), "a value was logged");
}

#[tokio::test]
async fn a_launcher_without_cluster_credentials_is_told_what_to_add_and_where() {
    let Some(cluster) = TestCluster::require() else { return };
    let app = spawn_app_with(cluster_jobs).await;
    let site = Site::new(&app, cluster).await;
    let identity = site.identity("hpc-main", Some(&cluster.host_key_fingerprint)).await;
    let env = site.managed_env(identity).await;
    let carol = site.launcher("carol@example.org").await;

    let (status, body) = site.try_launch(&carol, &env, "test/ok", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["message"],
        "You have no cluster credentials for the managed identity 'hpc-main'. Add your cluster username \
         and SSH key under Your cluster credentials (/user/cluster-credentials) and launch again."
    );
    let (_, runs) = app.get_json(&carol, &format!("/api/workflow?workspaceId={}", site.ws)).await;
    assert_eq!(runs["totalSize"], 0, "nothing was created: {runs}");
    let mut entries = Vec::new();
    walk(&site.work_dir, &mut |path| entries.push(path.to_path_buf()));
    assert!(entries.is_empty(), "nothing was written on the cluster: {entries:?}");
}
