//! The store on a real file system: modes, links, installs sharing a work directory, leftovers.

use super::host::HpcHost;
use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const WF: &str = "AbCdEf01234567";

fn store_in(root: &Path, install: &str) -> HpcStore {
    let host = Arc::new(HpcHost { work_roots: vec![root.to_path_buf()], ..HpcHost::default() });
    let config = app::model::ComputeConfig {
        work_dir: Some(root.join("lab").display().to_string()),
        ..app::model::ComputeConfig::default()
    };
    HpcStore::open(&config, install, &host).unwrap()
}

fn value(text: &str) -> SecretBytes {
    SecretBytes::from(text.as_bytes().to_vec())
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

#[tokio::test]
async fn stores_are_private_and_per_install() {
    let root = tempfile::tempdir().unwrap();
    let store = store_in(root.path(), "strongroom-one");
    let path = store.create_copy(CopySpec { workflow_id: WF, name: "A" }, &value("a")).await.unwrap();
    let expected = root.path().join("lab/.strongroom/strongroom-one").join(WF).join(STORE_FILE);
    assert_eq!(PathBuf::from(&path), expected);
    assert_eq!(mode(&expected), 0o600);
    for dir in [".strongroom", ".strongroom/strongroom-one"] {
        assert_eq!(mode(&root.path().join("lab").join(dir)), 0o700, "{dir}");
    }
    assert_eq!(mode(expected.parent().unwrap()), 0o700);

    let other = store_in(root.path(), "strongroom-two");
    assert!(other.list_managed().await.unwrap().is_empty(), "another install sees nothing of ours");
    other.finish_cleanup(WF).await.unwrap();
    other.delete_copy(CopySpec { workflow_id: WF, name: "A" }).await.unwrap();
    assert!(expected.exists(), "nor touches it");
    assert_eq!(store.list_managed().await.unwrap().len(), 1);
}

#[tokio::test]
async fn work_dirs_outside_the_roots_are_refused_at_opening() {
    let root = tempfile::tempdir().unwrap();
    let host = Arc::new(HpcHost { work_roots: vec![root.path().to_path_buf()], ..HpcHost::default() });
    let config = app::model::ComputeConfig { work_dir: Some("/etc".into()), ..Default::default() };
    let error = HpcStore::open(&config, "strongroom-one", &host).err().unwrap();
    assert!(error.to_string().contains("workDir must be under"), "{error}");
}

#[tokio::test]
async fn links_are_never_followed() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let outside_store = outside.path().join(STORE_FILE);
    std::fs::write(&outside_store, r#"[{"name":"A","value":"outside"}]"#).unwrap();
    std::fs::set_permissions(&outside_store, std::fs::Permissions::from_mode(0o600)).unwrap();
    let store = store_in(root.path(), "strongroom-one");
    store.create_copy(CopySpec { workflow_id: "Other000000001", name: "X" }, &value("x")).await.unwrap();
    let install = root.path().join("lab/.strongroom/strongroom-one");

    // A run directory that is a link: not listed, not written through, not cleaned through.
    std::os::unix::fs::symlink(outside.path(), install.join(WF)).unwrap();
    let listed = store.list_managed().await.unwrap();
    assert!(listed.iter().all(|c| c.workflow_id != WF), "{listed:?}");
    let error = store.create_copy(CopySpec { workflow_id: WF, name: "A" }, &value("new")).await.unwrap_err();
    assert!(!error.to_string().contains(&outside.path().display().to_string()), "no host path: {error}");
    store.delete_copy(CopySpec { workflow_id: WF, name: "A" }).await.unwrap();
    store.finish_cleanup(WF).await.unwrap();
    assert!(std::fs::symlink_metadata(install.join(WF)).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&outside_store).unwrap().contains("outside"));

    // A store that is a link: refused for writing, its link (not its target) removed by cleanup.
    std::fs::remove_file(install.join(WF)).unwrap();
    std::fs::create_dir(install.join(WF)).unwrap();
    std::os::unix::fs::symlink(&outside_store, install.join(WF).join(STORE_FILE)).unwrap();
    assert!(store.create_copy(CopySpec { workflow_id: WF, name: "A" }, &value("new")).await.is_err());
    store.finish_cleanup(WF).await.unwrap();
    assert!(!install.join(WF).exists());
    assert!(std::fs::read_to_string(&outside_store).unwrap().contains("outside"));

    // `.strongroom` itself a link: refused, nothing outside created.
    let lab2 = root.path().join("lab2");
    std::fs::create_dir(&lab2).unwrap();
    std::os::unix::fs::symlink(outside.path(), lab2.join(RUNS_DIR)).unwrap();
    let host = Arc::new(HpcHost { work_roots: vec![root.path().to_path_buf()], ..HpcHost::default() });
    let config =
        app::model::ComputeConfig { work_dir: Some(lab2.display().to_string()), ..Default::default() };
    let linked = HpcStore::open(&config, "strongroom-one", &host).unwrap();
    assert!(linked.create_copy(CopySpec { workflow_id: WF, name: "A" }, &value("v")).await.is_err());
    assert!(linked.list_managed().await.is_err() || linked.list_managed().await.unwrap().is_empty());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "nothing was created outside");
}

#[tokio::test]
async fn cleanup_removes_temporary_stores_and_the_launch_log() {
    let root = tempfile::tempdir().unwrap();
    let store = store_in(root.path(), "strongroom-one");
    store.create_copy(CopySpec { workflow_id: WF, name: "A" }, &value("a")).await.unwrap();
    let (log, log_path) = store.open_launch_log(WF).unwrap();
    drop(log);
    assert_eq!(mode(&log_path), 0o600);
    let run = log_path.parent().unwrap().to_path_buf();
    for leftover in ["secrets.tmp-x", "secrets.json.tmp-y", ".nf-1.secrets"] {
        std::fs::write(run.join(leftover), "[]").unwrap();
    }
    store.delete_copy(CopySpec { workflow_id: WF, name: "A" }).await.unwrap();
    store.finish_cleanup(WF).await.unwrap();
    assert!(!run.exists(), "every file of ours went, then the directory");
}

#[test]
fn store_locks_are_a_fixed_set_and_one_store_always_gets_the_same_lock() {
    let path = |i: usize| std::path::PathBuf::from(format!("/work/.strongroom/install/run{i}"));
    assert!(std::ptr::eq(super::lock_for(path(1)), super::lock_for(path(1))));
    let distinct: std::collections::HashSet<*const std::sync::Mutex<()>> =
        (0..10_000).map(|i| super::lock_for(path(i)) as *const _).collect();
    assert!(distinct.len() <= super::STORE_LOCKS, "{} locks", distinct.len());
}
