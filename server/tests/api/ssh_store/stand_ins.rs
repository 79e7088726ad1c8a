//! LSF, PBS Pro, Moab and Grid Engine against the cluster's recording stand-ins (no real one
//! can be installed here): the recorded command lines carry the queue, the options and the
//! script, never a value or the token; status follows the tools' answers; cancel stops the job.

use super::head_jobs::{follow, prepare, spec};
use super::{cluster, secret_text, Env};
use app::model::Platform;
use secrecy::ExposeSecret;
use server::providers::HeadJobState;
use std::time::Duration;

async fn scheduler_round_trip(
    platform: Platform,
    scheduler: &str,
    submit_tool: &str,
    options: &str,
    expected: &[&str],
) {
    let Some(cluster) = cluster() else { return };
    let alice = cluster.alice();
    let mut env = Env::slurm(cluster, alice);
    env.platform = platform;
    env.config.port = Some(match scheduler {
        "lsf" => cluster.lsf_port,
        "pbs" => cluster.pbs_port,
        "moab" => cluster.moab_port,
        _ => cluster.uge_port,
    });
    env.config.head_queue = Some("short".into());
    env.config.head_job_options = Some(options.into());
    let store = env.store().await;
    store.preflight().await.unwrap();
    let db = secret_text("db");
    let launch = prepare(&store, &[("DB_PASSWORD", &db)]).await;
    let wf = launch.workflow_id.clone();
    let jobs = store.head_jobs().unwrap();
    let job_id = jobs.submit(&spec(&launch, "test/ok", "http://127.0.0.1:9/api")).await.unwrap();
    assert_eq!(jobs.submit(&spec(&launch, "test/ok", "http://127.0.0.1:9/api")).await.unwrap(), job_id);

    let name = format!("sr-{wf}");
    let records = cluster.records(scheduler);
    let submits: Vec<_> = records
        .iter()
        .filter(|r| {
            r["argv"][0] == submit_tool && r["argv"].as_array().unwrap().iter().any(|a| a == name.as_str())
        })
        .collect();
    assert_eq!(submits.len(), 1, "submitted {} times", submits.len());
    let record = submits[0];
    assert_eq!(record["account"], alice.name.as_str());
    let argv: Vec<String> = serde_json::from_value(record["argv"].clone()).unwrap();
    let script = env.run_dir(&wf).join("head.sh").to_string_lossy().into_owned();
    assert_eq!(argv.last(), Some(&script), "{argv:?}");
    assert!(argv.iter().any(|a| a == "short"), "{argv:?}");
    for option in expected {
        assert!(argv.iter().any(|a| a == option), "{option} missing in {argv:?}");
    }
    let recorded = record.to_string();
    let all = serde_json::to_string(&records).unwrap();
    assert!(recorded.contains("nextflow run test/ok"), "the script was not recorded: {recorded}");
    assert!(!all.contains(&db) && !all.contains(launch.token.expose_secret()), "a value reached {scheduler}");

    assert!(!jobs.status(&wf, &job_id).await.unwrap().is_over());
    cluster.fake_finish(scheduler, &job_id, 0);
    assert_eq!(follow(&store, &wf, &job_id, Duration::from_secs(10)).await, HeadJobState::Succeeded);
    jobs.cancel(&wf, &job_id).await.unwrap(); // ended already: done

    let second = prepare(&store, &[("DB_PASSWORD", &db)]).await;
    let second_id = jobs.submit(&spec(&second, "test/sleep", "http://127.0.0.1:9/api")).await.unwrap();
    jobs.cancel(&second.workflow_id, &second_id).await.unwrap();
    let state = jobs.status(&second.workflow_id, &second_id).await.unwrap();
    assert!(matches!(state, HeadJobState::Failed(_)), "{state:?}");
    for run in [&wf, &second.workflow_id] {
        store.finish_cleanup(run).await.unwrap();
        assert!(!env.run_dir(run).exists());
    }
}

#[tokio::test]
async fn lsf_submits_follows_and_cancels_through_bsub_bjobs_bkill() {
    scheduler_round_trip(
        Platform::Lsf,
        "lsf",
        "bsub",
        "-W 10 -R 'rusage[mem=100]'",
        &["-W", "10", "rusage[mem=100]"],
    )
    .await;
}

#[tokio::test]
async fn pbs_submits_follows_and_cancels_through_qsub_qstat_qdel() {
    scheduler_round_trip(
        Platform::AltairPbs,
        "pbs",
        "qsub",
        "-l select=1:ncpus=2 -l walltime=1:00:00",
        &["select=1:ncpus=2", "walltime=1:00:00"],
    )
    .await;
}

#[tokio::test]
async fn moab_submits_follows_and_cancels_through_msub_checkjob_mjobctl() {
    scheduler_round_trip(Platform::Moab, "moab", "msub", "-l nodes=1", &["nodes=1"]).await;
}

#[tokio::test]
async fn grid_engine_submits_follows_and_cancels_through_qsub_qstat_qdel() {
    scheduler_round_trip(Platform::Uge, "uge", "qsub", "-pe smp 2", &["-pe", "smp", "2"]).await;
}
