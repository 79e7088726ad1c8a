//! Crash safety of secret writes: the real `strongroom` binary takes concurrent creates and
//! updates of secrets and is killed with SIGKILL at a seeded random moment, then started again,
//! round after round. Afterwards every write the server acknowledged is there with its value
//! (or with the value of a later write that was in flight at a kill), every stored value opens
//! with the key, the SQLite file passes `PRAGMA integrity_check`, and the audit chain verifies.
//!
//! `STRONGROOM_CRASH_ROUNDS` sets the number of rounds (30 by default, to keep the suite short;
//! see the README for the long run).

use super::ServerProcess;
use crate::cli::{kek_from, open_all};
use crate::helpers::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WRITERS: usize = 8;

/// What the test knows of one secret name: its id once a create was acknowledged, the last
/// acknowledged value, and the values sent since whose writes got no answer (in flight at a kill:
/// each may or may not have committed, so any of them or the acknowledged one is right).
#[derive(Default)]
struct Written {
    id: Option<i64>,
    acked: Option<String>,
    unanswered: Vec<String>,
}

#[derive(Default)]
struct Ledger {
    names: BTreeMap<String, Written>,
    acknowledged: usize,
    in_flight_at_kill: usize,
}

fn rounds() -> usize {
    std::env::var("STRONGROOM_CRASH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(30)
}

/// One writer: creates secrets of its own and updates them (those of earlier rounds too), one
/// request at a time, until the server stops answering. Returns whether its last request reached the server unanswered (a
/// write the kill struck); any answer but success is returned as a finding.
async fn writer(
    server: String,
    bearer: Client,
    ws: i64,
    (writer, round): (usize, usize),
    ledger: Arc<Mutex<Ledger>>,
    mut rng: StdRng,
) -> Result<bool, String> {
    let prefix = format!("W{writer}_");
    for n in 0_u64.. {
        let value = format!("{prefix}-value-{n}-{:016x}", rng.gen::<u64>());
        let update = {
            let ledger = ledger.lock().unwrap();
            let mine: Vec<(String, i64)> = ledger
                .names
                .iter()
                .filter(|(name, w)| name.starts_with(&prefix) && w.id.is_some())
                .map(|(name, w)| (name.clone(), w.id.unwrap()))
                .collect();
            (!mine.is_empty() && rng.gen_bool(0.5)).then(|| mine[rng.gen_range(0..mine.len())].clone())
        };
        let (name, request) = match &update {
            Some((name, id)) => (
                name.clone(),
                bearer
                    .request(Method::PUT, format!("{server}/api/pipeline-secrets/{id}?workspaceId={ws}"))
                    .json(&json!({ "value": value })),
            ),
            None => {
                let name = format!("{prefix}R{round}_{n}");
                let url = format!("{server}/api/pipeline-secrets?workspaceId={ws}");
                (name.clone(), bearer.post(url).json(&json!({ "name": name, "value": value })))
            }
        };
        ledger.lock().unwrap().names.entry(name.clone()).or_default().unanswered.push(value.clone());
        let response = match request.send().await {
            Ok(response) => response,
            // Refused: the server was gone before this request, which it never saw.
            Err(e) => return Ok(!e.is_connect()),
        };
        let status = response.status();
        let Ok(body) = response.text().await else { return Ok(true) };
        if !status.is_success() {
            return Err(format!("{name}: {status} {body}"));
        }
        let mut ledger = ledger.lock().unwrap();
        ledger.acknowledged += 1;
        let written = ledger.names.get_mut(&name).unwrap();
        if update.is_none() {
            let body: Value = serde_json::from_str(&body).map_err(|e| format!("{name}: {e}: {body}"))?;
            written.id = Some(body["secretId"].as_i64().ok_or_else(|| format!("no id: {body}"))?);
        }
        // Writes to one name are sequential: the one answered now supersedes any sent before.
        written.acked = written.unanswered.pop();
        written.unanswered.clear();
    }
    Err("the writer ran out of numbers".into())
}

/// One round: the server starts, the writers write, the server is killed after `write_for`.
async fn round(
    app: &TestApp,
    token: &str,
    ws: i64,
    round: usize,
    ledger: &Arc<Mutex<Ledger>>,
    write_for: Duration,
) {
    let mut server = ServerProcess::start(app, &[("STRONGROOM_WORKERS", "0".to_string())]).await;
    let base = server.url("");
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let rng = StdRng::seed_from_u64((round * WRITERS + w) as u64);
            let bearer = client_with_bearer(token);
            tokio::spawn(writer(base.clone(), bearer, ws, (w, round), ledger.clone(), rng))
        })
        .collect();
    tokio::time::sleep(write_for).await;
    server.kill().await;
    for w in writers {
        match w.await.unwrap() {
            Ok(struck) => ledger.lock().unwrap().in_flight_at_kill += usize::from(struck),
            Err(finding) => panic!("round {round}: a write was refused: {finding}"),
        }
    }
}

#[tokio::test]
async fn killing_the_server_during_concurrent_secret_writes_loses_no_acknowledged_write() {
    let app = spawn_app_with(|c| c.workers = 0).await;
    let admin = app.setup_admin().await;
    let (_, ws) = app.org_and_workspace(&admin, "lab").await;
    let (status, token) =
        app.send_json(&admin, Method::POST, "/api/tokens", json!({ "name": "writer" })).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token = token["accessKey"].as_str().unwrap().to_string();

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = StdRng::seed_from_u64(15);
    let started = Instant::now();
    let rounds = rounds();
    for r in 0..rounds {
        let write_for = Duration::from_millis(rng.gen_range(100..700));
        round(&app, &token, ws, r, &ledger, write_for).await;
    }

    // Every stored value opens, and every acknowledged write is there.
    let stored: BTreeMap<String, Result<String, String>> = open_all(&app, &kek_from(&app.key_file()))
        .await
        .into_iter()
        .map(|(name, _, value)| (name, value))
        .collect();
    let unopened: Vec<_> = stored.iter().filter(|(_, v)| v.is_err()).collect();
    assert!(unopened.is_empty(), "values that do not open: {unopened:?}");
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    let mut lost = Vec::new();
    for (name, written) in &ledger.names {
        let stored = stored.get(name).and_then(|v| v.as_ref().ok());
        let fine = match (&written.acked, stored) {
            (Some(acked), Some(value)) => value == acked || written.unanswered.contains(value),
            (Some(_), None) => false,
            (None, Some(value)) => written.unanswered.contains(value),
            (None, None) => true,
        };
        if !fine {
            lost.push(format!("{name}: acknowledged {:?}, stored {stored:?}", written.acked));
        }
    }
    assert!(lost.is_empty(), "acknowledged writes lost or wrong: {lost:?}");
    let unknown: Vec<_> = stored.keys().filter(|n| !ledger.names.contains_key(*n)).collect();
    assert!(unknown.is_empty(), "secrets no one wrote: {unknown:?}");
    assert!(ledger.acknowledged > rounds, "the writers got through: {} writes", ledger.acknowledged);
    assert!(ledger.in_flight_at_kill > 0, "no kill struck a write in flight");

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    if !is_postgres() {
        let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&pool).await.unwrap();
        assert_eq!(check, ["ok"], "SQLite integrity_check");
    }
    let verified = server::audit::verify(&pool).await.unwrap();
    pool.close().await;
    let entries = verified.unwrap_or_else(|broken| panic!("{broken}")).entries;
    eprintln!(
        "crash rounds: {rounds} in {:.1} s, {} acknowledged writes, {} in flight at a kill, {} secrets, \
         {entries} audit entries",
        started.elapsed().as_secs_f64(),
        ledger.acknowledged,
        ledger.in_flight_at_kill,
        stored.len(),
    );
}
