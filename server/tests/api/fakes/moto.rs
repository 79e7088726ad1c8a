//! A moto server (an AWS emulator, `pip install 'moto[server]'`) for one test: started on a free
//! loopback port, killed when dropped. Each test gets its own, so no state leaks between tests.
//!
//! moto answers Secrets Manager, Batch and STS with the real wire protocols, so the real SDK is
//! exercised end to end; it does not simulate IAM (every call is allowed) nor quotas.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
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

fn free_port() -> u16 {
    TcpListener::bind((crate::helpers::EMULATOR_HOST, 0))
        .expect("a free loopback port")
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts moto and waits until it answers (a few tries, in case another process took the
    /// port between choosing it and moto binding it).
    pub async fn start() -> Moto {
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
    let moto = Moto::start().await;
    moto.batch_client().await.describe_job_definitions().send().await.expect("moto answers Batch");
    moto
}

/// moto is plain HTTP; the builder still wants a TLS provider chosen.
fn test_http_client() -> aws_sdk_secretsmanager::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}
