//! Times provisioning and cleanup of per-run copies through the AWS store, the way the worker
//! drives it: `count` copies of one run, `concurrency` in flight, every call through the shared
//! rate limiter. Run by `scripts/bench-provision` against moto; prints `key=value` lines.
//!
//! Usage: bench_provision --endpoint http://127.0.0.1:PORT [--count 100] [--concurrency 8]

use app::model::{ComputeConfig, Platform};
use server::crypto::SecretBytes;
use server::providers::{self, CopySpec, SharedStore, Target};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const MAX_COUNT: usize = 10_000;
const DEADLINE: Duration = Duration::from_secs(300);

struct Args {
    endpoint: String,
    count: usize,
    concurrency: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { endpoint: String::new(), count: 100, concurrency: 8 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--endpoint" => args.endpoint = value,
            "--count" => args.count = value.parse().map_err(|_| "--count takes a number")?,
            "--concurrency" => {
                args.concurrency = value.parse().map_err(|_| "--concurrency takes a number")?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.endpoint.is_empty() {
        return Err("--endpoint is required (a local emulator such as moto)".into());
    }
    if args.count == 0 || args.count > MAX_COUNT || args.concurrency == 0 || args.concurrency > 64 {
        return Err(format!("--count must be 1..={MAX_COUNT} and --concurrency 1..=64"));
    }
    Ok(args)
}

/// Runs `op` on every index with at most `concurrency` in flight; returns the failures.
async fn run_all<F, Fut>(count: usize, concurrency: usize, op: F) -> usize
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await.expect("the semaphore stays open");
        let fut = op(i);
        tasks.spawn(async move {
            let result = fut.await;
            drop(permit);
            result
        });
    }
    let mut failures = 0;
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined.unwrap_or_else(|e| Err(e.to_string())) {
            if failures == 0 {
                eprintln!("first failure: {e}");
            }
            failures += 1;
        }
    }
    failures
}

async fn bench(args: Args) -> Result<(), String> {
    let config = ComputeConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(args.endpoint.clone()),
        ..Default::default()
    };
    let keys = SecretBytes::from(br#"{"accessKey":"testing","secretKey":"testing"}"#.to_vec());
    let install_id = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let store: SharedStore = providers::open(Target {
        platform: Platform::AwsBatch,
        config: &config,
        credentials: Some(&keys),
        install_id: &install_id,
        host_identity: providers::HostIdentity::Refused,
        managed_identity: None,
    })
    .await
    .map_err(|e| e.to_string())?;
    // A 14-character base62 workflow id, like the real ones.
    let workflow_id: String = uuid::Uuid::new_v4().simple().to_string()[..14].to_string();

    let started = Instant::now();
    let failures = run_all(args.count, args.concurrency, |i| {
        let (store, wf) = (store.clone(), workflow_id.clone());
        async move {
            let name = format!("BENCH_SECRET_{i}");
            let value = SecretBytes::from(format!("value-{i}-{}", uuid::Uuid::new_v4()).into_bytes());
            store
                .create_copy(CopySpec { workflow_id: &wf, name: &name }, &value)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await;
    let provision = started.elapsed();
    if failures > 0 {
        return Err(format!("{failures} of {} creates failed", args.count));
    }
    let listed = store.list_managed().await.map_err(|e| e.to_string())?.len();
    if listed != args.count {
        return Err(format!("expected {} copies, listed {listed}", args.count));
    }

    let started = Instant::now();
    let failures = run_all(args.count, args.concurrency, |i| {
        let (store, wf) = (store.clone(), workflow_id.clone());
        async move {
            let name = format!("BENCH_SECRET_{i}");
            store.delete_copy(CopySpec { workflow_id: &wf, name: &name }).await.map_err(|e| e.to_string())
        }
    })
    .await;
    let cleanup = started.elapsed();
    if failures > 0 {
        return Err(format!("{failures} of {} deletes failed", args.count));
    }

    println!("count={}", args.count);
    println!("concurrency={}", args.concurrency);
    println!("provision_seconds={:.3}", provision.as_secs_f64());
    println!("cleanup_seconds={:.3}", cleanup.as_secs_f64());
    Ok(())
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bench_provision: {e}");
            std::process::exit(2);
        }
    };
    match tokio::time::timeout(DEADLINE, bench(args)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("bench_provision: {e}");
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("bench_provision: gave up after {} s", DEADLINE.as_secs());
            std::process::exit(1);
        }
    }
}
