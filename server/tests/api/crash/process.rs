//! The real `strongroom` binary as a separate process on a test app's database and key: the
//! crash tests kill it with SIGKILL, the replica test runs two of them side by side.

use crate::cli::db_env;
use crate::helpers::TestApp;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub(crate) struct ServerProcess {
    pub child: tokio::process::Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts the binary on a free loopback port with fast job timing, the app's database and
    /// key, and `extra` settings on top (later ones win). It is killed when dropped.
    pub(crate) fn spawn(app: &TestApp, extra: &[(&str, String)]) -> ServerProcess {
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(db_env(app))
            .env("STRONGROOM_ADDR", addr.to_string())
            .env("STRONGROOM_PUBLIC_URL", format!("http://{addr}"))
            .env("STRONGROOM_WORKERS", "4")
            .env("STRONGROOM_WORKER_POLL_MS", "50")
            .env("STRONGROOM_RETRY_BASE_MS", "20")
            .env("STRONGROOM_RETRY_CAP_MS", "200")
            .env("STRONGROOM_MAX_CREATE_ATTEMPTS", "1000")
            .env("STRONGROOM_RECONCILE_INTERVAL_SECS", "1")
            .env("STRONGROOM_RECONCILE_GRACE_SECS", "0")
            // A killed process's claims lapse after 15 s, not the default 60: the tests wait for
            // that once or more. Provider steps then get 12.5 s, still far above these fakes'.
            .env("STRONGROOM_CLAIM_LEASE_SECS", "15")
            .env("STRONGROOM_ENDPOINT_ALLOW", crate::helpers::endpoint_allow().join(","))
            .envs(extra.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(server_log())
            .kill_on_drop(true)
            .spawn()
            .expect("the strongroom binary starts");
        ServerProcess { child, addr }
    }

    /// `spawn`, then waits (at most 60 s) until `/health` answers 200, so requests can follow.
    ///
    /// The free port is found by binding port 0 and releasing it, so another socket of the
    /// machine may take it before the process binds it. A process that exits at start while its
    /// port is held by someone else is started again on another port, up to three times.
    pub(crate) async fn start(app: &TestApp, extra: &[(&str, String)]) -> ServerProcess {
        let mut server = ServerProcess::spawn(app, extra);
        let mut port_taken_restarts = 0;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let port_taken = std::net::TcpListener::bind(server.addr).is_err();
                if port_taken && port_taken_restarts < 3 {
                    port_taken_restarts += 1;
                    server = ServerProcess::spawn(app, extra);
                    continue;
                }
                panic!("the server process exited at start: {status} (its port taken: {port_taken})");
            }
            let health = client.get(server.url("/health")).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(Instant::now() < deadline, "the server process did not answer /health within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGKILL: no shutdown code runs, as in a power cut or an OOM kill.
    pub(crate) async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL");
    }
}

/// The processes' log lines go nowhere, unless `STRONGROOM_TEST_SERVER_LOGS=1` shows them (to
/// see why a killed-and-restarted server answered as it did).
fn server_log() -> Stdio {
    if std::env::var("STRONGROOM_TEST_SERVER_LOGS").is_ok_and(|v| v == "1") {
        Stdio::inherit()
    } else {
        Stdio::null()
    }
}
