//! The Nextflow secrets store writer of HPC targets on the Strongroom host (`HpcStore`): after
//! any sequence of copies made and deleted, several at once as the workers do, each run's
//! `secrets.json` is a private (0600) file that Nextflow reads as a JSON list of
//! `{"name", "value"}` holding exactly the copies made and not deleted, each once, whatever the
//! names and values (quotes, newlines, any Unicode); a value that is not UTF-8 or a workflow id
//! that could name another directory is refused and writes nothing; cleanup leaves nothing.

#![no_main]

use app::model::ComputeConfig;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use server::providers::hpc::host::HpcHost;
use server::providers::hpc::HpcStore;
use server::providers::{CopySpec, SecretStore};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

const RUNS: [&str; 3] = ["wfAAAAAAAAAAA1", "wfBBBBBBBBBBB2", "wfCCCCCCCCCCC3"];

#[derive(Arbitrary, Debug)]
enum Op {
    Create {
        run: u8,
        name: String,
        value: Vec<u8>,
    },
    Delete {
        run: u8,
        name: String,
    },
    /// A workflow id from the input, which the store must refuse unless it is plain letters and
    /// digits.
    CreateIn {
        workflow_id: String,
        name: String,
    },
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    store: Arc<HpcStore>,
    work_dir: PathBuf,
    _dir: tempfile::TempDir,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    // tmpfs when there is one: every store write is synced.
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let data_dir = dir.path().to_path_buf();
    let work_dir = data_dir.join("work").join("fuzz");
    std::fs::create_dir_all(&work_dir).unwrap();
    let host = Arc::new(HpcHost::from_settings(&[], None, &[], &data_dir, Vec::new()).unwrap());
    let config = ComputeConfig { work_dir: Some(work_dir.display().to_string()), ..Default::default() };
    let store = Arc::new(HpcStore::open(&config, "fuzz-install", &host).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    Harness { runtime, store, work_dir, _dir: dir }
});

fn read_entries(path: &std::path::Path) -> Option<Vec<(String, String)>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the store is private");
    let list: Vec<serde_json::Value> = serde_json::from_slice(&bytes).expect("the store is a JSON list");
    Some(
        list.iter()
            .map(|e| {
                assert_eq!(e.as_object().unwrap().len(), 2, "only name and value: {e}");
                (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap().to_string())
            })
            .collect(),
    )
}

fuzz_target!(|batches: Vec<Vec<Op>>| {
    let h = &*HARNESS;
    let mut model: BTreeMap<(usize, String), String> = BTreeMap::new();
    h.runtime.block_on(async {
        for batch in batches.into_iter().take(8) {
            // One batch runs at once, like several workers; at most one op per copy in a batch,
            // so the model's order is the only one.
            let mut seen = BTreeSet::new();
            let mut tasks = tokio::task::JoinSet::new();
            for op in batch.into_iter().take(16) {
                let store = h.store.clone();
                match op {
                    Op::Create { run, name, value } => {
                        let run = usize::from(run) % RUNS.len();
                        if name.is_empty() || !seen.insert((run, name.clone())) {
                            continue;
                        }
                        let text = String::from_utf8(value.clone()).ok();
                        match &text {
                            Some(text) => model.insert((run, name.clone()), text.clone()),
                            None => None,
                        };
                        tasks.spawn(async move {
                            let copy = CopySpec { workflow_id: RUNS[run], name: &name };
                            let made = store.create_copy(copy, &value.into()).await;
                            assert_eq!(made.is_ok(), text.is_some(), "UTF-8 values only: {made:?}");
                        });
                    }
                    Op::Delete { run, name } => {
                        let run = usize::from(run) % RUNS.len();
                        if !seen.insert((run, name.clone())) {
                            continue;
                        }
                        model.remove(&(run, name.clone()));
                        tasks.spawn(async move {
                            let copy = CopySpec { workflow_id: RUNS[run], name: &name };
                            store.delete_copy(copy).await.expect("a delete succeeds");
                        });
                    }
                    Op::CreateIn { workflow_id, name } => {
                        if name.is_empty() || workflow_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                            continue;
                        }
                        let copy = CopySpec { workflow_id: &workflow_id, name: &name };
                        let made = store.create_copy(copy, &b"x".to_vec().into()).await;
                        assert!(made.is_err(), "the workflow id {workflow_id:?} was accepted");
                    }
                }
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        }

        // Each store holds exactly the model's copies for its run, each name once.
        for (run, workflow_id) in RUNS.iter().enumerate() {
            let path = h.store.store_path(workflow_id).unwrap();
            let expected: BTreeMap<&String, &String> =
                model.iter().filter(|((r, _), _)| *r == run).map(|((_, n), v)| (n, v)).collect();
            let found = read_entries(&path).unwrap_or_default();
            let names: BTreeSet<&String> = found.iter().map(|(n, _)| n).collect();
            assert_eq!(names.len(), found.len(), "a name twice in {workflow_id}");
            let found: BTreeMap<&String, &String> = found.iter().map(|(n, v)| (n, v)).collect();
            assert_eq!(found, expected, "the store of {workflow_id}");
            h.store.finish_cleanup(workflow_id).await.expect("cleanup");
            assert!(!path.exists(), "cleanup removed the store");
        }
    });
    // Nothing but the install's (empty) directories is left in the work directory.
    let left: Vec<_> = walk(&h.work_dir).into_iter().filter(|p| p.is_file()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
});

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
