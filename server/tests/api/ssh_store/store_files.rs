//! The store over SFTP: private to its account, idempotent, cleaned without a trace, and never
//! written into a directory another account planted.

use super::{cluster, copy, secret_text, value, workflow_id, Env};
use crate::support::cluster::{file_mode, owner_uid, read_as_root};
use server::providers::{CreatedCopy, ManagedCopy, ProviderError};

fn names_in(store_json: &str) -> Vec<(String, String)> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(store_json).expect("the store is JSON");
    entries
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_store_is_private_to_its_account_and_cleanup_leaves_nothing() {
    let Some(cluster) = cluster() else { return };
    let (alice, bob) = (cluster.alice(), cluster.bob());
    let env = Env::slurm(cluster, alice);
    let store = env.store().await;
    let wf = workflow_id();
    let (db, api, db_new) = (secret_text("db"), secret_text("api"), secret_text("db2"));

    let reference = store.create_copy(copy(&wf, "DB_PASSWORD"), &value(&db)).await.unwrap();
    store.create_copy(copy(&wf, "API_KEY"), &value(&api)).await.unwrap();
    let store_path = env.run_dir(&wf).join("secrets.json");
    assert_eq!(reference, store_path.to_string_lossy());
    assert_eq!(file_mode(&store_path), Some(0o600));
    assert_eq!(owner_uid(&store_path), Some(alice.uid));
    let account_dir = env.install_dir().parent().unwrap().to_path_buf();
    for dir in [account_dir, env.install_dir(), env.run_dir(&wf)] {
        assert_eq!(file_mode(&dir), Some(0o700), "{}", dir.display());
        assert_eq!(owner_uid(&dir), Some(alice.uid), "{}", dir.display());
    }
    let stored = names_in(&read_as_root(&store_path).unwrap());
    assert_eq!(stored, [("DB_PASSWORD".into(), db.clone()), ("API_KEY".into(), api.clone())]);
    let (status, _) = cluster.run_as(&bob.name, &format!("cat {}", store_path.display()));
    assert_ne!(status, 0, "bob read alice's store");
    let (status, _) = cluster.run_as(&bob.name, &format!("ls {}", env.run_dir(&wf).display()));
    assert_ne!(status, 0, "bob listed alice's run directory");

    // Idempotent: the same copy again replaces its value, never adds a second entry.
    store.create_copy(copy(&wf, "DB_PASSWORD"), &value(&db_new)).await.unwrap();
    store.create_copy(copy(&wf, "DB_PASSWORD"), &value(&db_new)).await.unwrap();
    let stored = names_in(&read_as_root(&store_path).unwrap());
    assert_eq!(stored, [("API_KEY".into(), api.clone()), ("DB_PASSWORD".into(), db_new.clone())]);
    // Control: the leak check at the end does find a value where there is one.
    assert_eq!(super::files_holding(&env.work_dir(), &[&db_new]), [store_path.to_string_lossy()]);
    let created = [CreatedCopy { name: "API_KEY".into(), reference: reference.clone() }];
    let env_vars = store.prepare_launch(&wf, &created).await.unwrap();
    assert_eq!(env_vars, [("NXF_SECRETS_FILE".to_owned(), reference.clone())]);
    assert!(store.prepare_launch(&wf, &[]).await.unwrap().is_empty());
    let mut listed = store.list_managed().await.unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    let expected = |name: &str| ManagedCopy { workflow_id: wf.clone(), name: name.into() };
    assert_eq!(listed, [expected("API_KEY"), expected("DB_PASSWORD")]);

    store.delete_copy(copy(&wf, "API_KEY")).await.unwrap();
    store.delete_copy(copy(&wf, "API_KEY")).await.unwrap();
    assert_eq!(names_in(&read_as_root(&store_path).unwrap()), [("DB_PASSWORD".into(), db_new.clone())]);
    store.delete_copy(copy(&wf, "DB_PASSWORD")).await.unwrap();
    // An empty store is still reported, with an empty name, so the reconciler finishes it.
    assert_eq!(store.list_managed().await.unwrap(), [expected("")]);

    // What Nextflow and the scheduler leave beside the store goes with it.
    let run_dir = env.run_dir(&wf);
    let leftovers = format!(
        "cd {} && umask 077 && echo names-only > .nf-4f2a.secrets && echo log > head.log \
         && echo x > secrets.json.tmp-1",
        run_dir.display()
    );
    assert_eq!(cluster.run_as(&alice.name, &leftovers).0, 0);
    store.finish_cleanup(&wf).await.unwrap();
    assert!(!run_dir.exists(), "the run directory is left: {:?}", std::fs::read_dir(&run_dir).ok());
    store.finish_cleanup(&wf).await.unwrap();
    store.delete_copy(copy(&wf, "DB_PASSWORD")).await.unwrap();
    assert!(store.list_managed().await.unwrap().is_empty());
    let found = super::files_holding(&env.work_dir(), &[&db, &api, &db_new]);
    assert!(found.is_empty(), "values left on the cluster: {found:?}");
}

#[tokio::test]
async fn what_the_run_made_itself_stays_after_cleanup() {
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    let env = Env::slurm(cluster, alice);
    let store = env.store().await;
    let wf = workflow_id();
    store.create_copy(copy(&wf, "TOKEN"), &value(&secret_text("t"))).await.unwrap();
    let run_dir = env.run_dir(&wf);
    assert_eq!(cluster.run_as(&alice.name, &format!("echo r > {}/report.html", run_dir.display())).0, 0);
    store.finish_cleanup(&wf).await.unwrap();
    assert!(!run_dir.join("secrets.json").exists());
    assert!(run_dir.join("report.html").exists(), "a file of the run was removed");
    std::fs::remove_dir_all(&run_dir).unwrap();
}

#[tokio::test]
async fn a_directory_another_account_planted_is_never_written_into() {
    let Some(cluster) = cluster() else { return };
    let (alice, bob) = (cluster.alice(), cluster.bob());
    // A work directory of its own (1777, like /scratch), so other tests are not disturbed.
    let work = cluster.scratch.join(format!("planted-{}", super::fresh_id(8)));
    std::fs::create_dir(&work).unwrap();
    std::fs::set_permissions(&work, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    let mut env = Env::slurm(cluster, alice);
    env.config.work_dir = Some(work.to_string_lossy().into_owned());
    let planted = work.join(format!(".strongroom-{}", alice.name));
    let store = env.store().await;
    let wf = workflow_id();

    for plant in [format!("mkdir -m 0777 {}", planted.display()), format!("ln -s /tmp {}", planted.display())]
    {
        assert_eq!(cluster.run_as(&bob.name, &plant).0, 0, "{plant}");
        let error = store.create_copy(copy(&wf, "DB"), &value("never-written")).await.unwrap_err();
        let ProviderError::Rejected(message) = &error else { panic!("{error:?}") };
        assert!(message.contains("is not yours") || message.contains("not a directory"), "{message}");
        assert!(message.contains(&planted.to_string_lossy().to_string()), "{message}");
        // Nothing of ours can be there: cleanup and listing leave it alone and succeed.
        assert!(store.list_managed().await.unwrap().is_empty());
        store.finish_cleanup(&wf).await.unwrap();
        assert!(super::files_holding(&work, &["never-written"]).is_empty());
        let _ = std::fs::remove_dir(&planted).or_else(|_| std::fs::remove_file(&planted));
    }
    std::fs::remove_dir_all(&work).unwrap();
}

#[tokio::test]
async fn copies_made_at_once_for_one_run_all_land_in_its_store() {
    let Some(cluster) = cluster() else { return };
    let env = Env::slurm(cluster, cluster.alice());
    let store = env.store().await;
    let wf = workflow_id();
    let names: Vec<String> = (1..=12).map(|i| format!("SECRET_{i}")).collect();
    let writes = names.iter().map(|name| {
        let store = store.clone();
        let (wf, name) = (wf.clone(), name.clone());
        async move { store.create_copy(copy(&wf, &name), &value(&format!("v-{name}"))).await }
    });
    for written in futures_util::future::join_all(writes).await {
        written.unwrap();
    }
    let store_path = env.run_dir(&wf).join("secrets.json");
    let mut stored: Vec<String> =
        names_in(&read_as_root(&store_path).unwrap()).into_iter().map(|(n, _)| n).collect();
    stored.sort();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(stored, expected, "concurrent copies lost each other's entries");
    store.finish_cleanup(&wf).await.unwrap();
}
