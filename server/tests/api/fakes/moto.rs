//! A moto server (an AWS emulator, `pip install 'moto[server]'`) for one test: started on a free
//! loopback port, killed when dropped. Each test gets its own, so no state leaks between tests.
//!
//! moto answers Secrets Manager, Batch and STS with the real wire protocols, so the real SDK is
//! exercised end to end; it does not simulate IAM (every call is allowed) nor quotas. Its Batch
//! jobs are held in `SUBMITTED` unless a test lets them run (then, without a container runtime,
//! moto fails them: the head job's end is tested with that).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port for one moto, never handed to another test of this process.
///
/// moto binds the port itself, a second or two after it starts, and the readiness check cannot
/// tell which process answers on it. A port the kernel chose (`bind(0)`, then released) was once
/// given to two tests at once: the second test's moto failed to bind, the first one's answered
/// both, and the second test saw the first one's role and lost its calls when that moto stopped.
/// So the ports are counted out, from a random start below the kernel's ephemeral range
/// (32768–60999 here), where no `bind(0)` or outgoing connection lands.
fn free_port() -> u16 {
    static NEXT: OnceLock<AtomicU16> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU16::new(20_000 + (std::process::id() % 8_000) as u16));
    loop {
        let port = next.fetch_add(1, Ordering::Relaxed);
        assert!(port < 32_768, "no free port left for moto below the ephemeral range");
        // Skips a port something else holds.
        if TcpListener::bind((crate::helpers::EMULATOR_HOST, port)).is_ok() {
            return port;
        }
    }
}

/// The AWS Batch job queue every test environment uses (`computeQueue` of `aws_env`).
pub const QUEUE: &str = "q";
/// moto's default account.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

impl Moto {
    /// Starts moto with an AWS Batch job queue [`QUEUE`] (behind an unmanaged compute
    /// environment) and with its jobs held in `SUBMITTED` (see [`Moto::hold_jobs`]), so a head job
    /// Strongroom submits waits until a test lets it go on.
    pub async fn start() -> Moto {
        let moto = Moto::start_bare().await;
        moto.create_queue(QUEUE).await;
        moto.hold_jobs().await;
        moto
    }

    /// Starts moto and waits until it answers (a few tries, in case another process took the
    /// port between choosing it and moto binding it).
    pub async fn start_bare() -> Moto {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = match Command::new("moto_server")
                .args(["-p", &port.to_string(), "-H", crate::helpers::EMULATOR_HOST])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            {
                Ok(child) => child,
                Err(e) => {
                    panic!("could not start moto_server ({e}); install it with pip install 'moto[server]'")
                }
            };
            let mut moto =
                Moto { child, endpoint: format!("http://{}:{port}", crate::helpers::EMULATOR_HOST) };
            match moto.wait_ready().await {
                Ok(()) => return moto,
                Err(e) => last_error = e,
            }
        }
        panic!("moto_server did not start: {last_error}");
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("it exited with {status}"));
            }
            let url = format!("{}/moto-api/", self.endpoint);
            if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("it did not answer within 30 s".into())
    }

    /// Creates an AWS Batch job queue in moto's default account, as an administrator would.
    pub async fn create_queue(&self, queue: &str) {
        self.create_queue_in(DEFAULT_ACCOUNT, queue).await
    }

    /// Creates an AWS Batch job queue in `account`: a service role, an unmanaged compute
    /// environment and the queue on it. Through moto's own wire protocols with its account header
    /// (the tests have no IAM client, and the SDK cannot name an account).
    pub async fn create_queue_in(&self, account: &str, queue: &str) {
        let client = reqwest::Client::new();
        // moto routes a request by the service named in its (unchecked) signature.
        let signed = |service: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            )
        };
        let created = client
            .post(format!("{}/", self.endpoint))
            .header("Authorization", signed("iam"))
            .header("x-moto-account-id", account)
            .form(&[
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", &format!("sr-batch-service-{queue}")),
                ("AssumeRolePolicyDocument", "{}"),
            ])
            .send()
            .await
            .expect("moto answers IAM");
        let body = created.text().await.unwrap();
        let role = body
            .split("<Arn>")
            .nth(1)
            .and_then(|rest| rest.split("</Arn>").next())
            .unwrap_or_else(|| panic!("moto made no role: {body}"))
            .to_string();
        let batch = |action: &str, body: serde_json::Value| {
            client
                .post(format!("{}/v1/{action}", self.endpoint))
                .header("Authorization", signed("batch"))
                .header("x-moto-account-id", account)
                .json(&body)
                .send()
        };
        let environment: serde_json::Value = batch(
            "createcomputeenvironment",
            serde_json::json!({ "computeEnvironmentName": format!("sr-test-{queue}"), "type": "UNMANAGED",
                "state": "ENABLED", "serviceRole": role }),
        )
        .await
        .expect("moto makes a compute environment")
        .json()
        .await
        .unwrap();
        let arn = environment["computeEnvironmentArn"].as_str().unwrap_or_else(|| panic!("{environment}"));
        let queued = batch(
            "createjobqueue",
            serde_json::json!({ "jobQueueName": queue, "state": "ENABLED", "priority": 1,
                "computeEnvironmentOrder": [{ "order": 1, "computeEnvironment": arn }] }),
        )
        .await
        .expect("moto makes a job queue");
        assert!(
            queued.status().is_success(),
            "moto made no queue: {}",
            queued.text().await.unwrap_or_default()
        );
    }

    async fn set_job_transition(&self, transition: serde_json::Value) {
        let url = format!("{}/moto-api/state-manager/set-transition", self.endpoint);
        let body = serde_json::json!({ "model_name": "batch::job", "transition": transition });
        let answer = reqwest::Client::new().post(url).json(&body).send().await.expect("moto's state manager");
        assert!(answer.status().is_success(), "moto refused the transition");
    }

    /// Holds every Batch job in `SUBMITTED`: moto advances a job's state only when asked, and is
    /// never asked this many times.
    pub async fn hold_jobs(&self) {
        self.set_job_transition(serde_json::json!({ "progression": "manual", "times": 1_000_000_000 })).await;
    }

    /// Lets jobs go on at once. With no container runtime here, moto then fails every job
    /// (`FAILED`, without a status reason) within a moment, held ones included.
    pub async fn let_jobs_run(&self) {
        self.set_job_transition(serde_json::json!({ "progression": "immediate" })).await;
    }

    /// Every job named `name` on [`QUEUE`], whatever its state: how many times it was submitted.
    pub async fn jobs_named(&self, name: &str) -> Vec<aws_sdk_batch::types::JobDetail> {
        let batch = self.batch_client().await;
        let listed = batch
            .list_jobs()
            .job_queue(QUEUE)
            .filters(aws_sdk_batch::types::KeyValuesPair::builder().name("JOB_NAME").values(name).build())
            .send()
            .await
            .unwrap();
        let ids: Vec<String> =
            listed.job_summary_list().iter().filter_map(|j| j.job_id().map(String::from)).collect();
        if ids.is_empty() {
            return Vec::new();
        }
        batch.describe_jobs().set_jobs(Some(ids)).send().await.unwrap().jobs().to_vec()
    }

    /// The credentials JSON a compute environment would hold (moto accepts any keys).
    pub fn keys_json() -> &'static str {
        r#"{"accessKey":"testing","secretKey":"testing"}"#
    }

    /// An SDK configuration for the test's own reads, with credentials held in the config only
    /// (never in the process environment).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .http_client(test_http_client())
            .load()
            .await
    }

    pub async fn secrets_client(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk_config().await)
    }

    pub async fn batch_client(&self) -> aws_sdk_batch::Client {
        aws_sdk_batch::Client::new(&self.sdk_config().await)
    }
}

/// Starts moto and has it load its Batch backend (slow the first time on a busy machine) before
/// any launch's preflight calls it with the server's short timeouts.
pub async fn warm_moto() -> Moto {
    // Making the job queue has loaded the Batch backend already.
    Moto::start().await
}

/// moto is plain HTTP; the builder still wants a TLS provider chosen.
fn test_http_client() -> aws_sdk_secretsmanager::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}
