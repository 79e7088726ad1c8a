//! A cluster's host key alone, without logging in: the Check of a managed identity's
//! environment by an admin who has no account on the identity can still prove the login node
//! answers and pin its key.
//!
//! Guarantee: nothing but the SSH key exchange happens (no user name, key or command is sent),
//! and with a pinned key a different one is refused inside the exchange, as in `connect`.

use super::connect::CONNECT_TIMEOUT;
use super::errors::{SshError, HOST_KEY_FIX};
use super::host_key::HostKeyCheck;
use crate::providers::PreflightFailure;
use russh::client;
use std::sync::{Arc, Mutex};

/// Connects to `host`:`port`, checks its host key against `pinned` (any key when `None`) and
/// disconnects; returns the key's fingerprint (`SHA256:…`).
pub async fn probe_host_key(host: &str, port: u16, pinned: Option<&str>) -> Result<String, PreflightFailure> {
    let unreachable = |message: String| PreflightFailure {
        step: "reach the cluster".into(),
        message,
        fix: format!(
            "Check the managed identity's hostName ({host}) and port ({port}), and that the login node \
             accepts SSH connections from the Strongroom host (firewall, VPN)."
        ),
    };
    let seen = Arc::new(Mutex::new(None));
    let exchange = async {
        let socket = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| unreachable(format!("could not reach {host} on port {port}: {e}")))?;
        let check = HostKeyCheck { pinned: pinned.map(str::to_owned), seen: seen.clone() };
        let handle = client::connect_stream(Arc::new(client::Config::default()), socket, check).await;
        let seen_key = seen.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default();
        match handle {
            Ok(handle) => {
                let _ = handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
                Ok(seen_key)
            }
            Err(russh::Error::UnknownKey) => {
                let error =
                    SshError::HostKeyChanged { pinned: pinned.unwrap_or_default().into(), seen: seen_key };
                Err(PreflightFailure {
                    step: "check the cluster's host key".into(),
                    message: error.message(),
                    fix: HOST_KEY_FIX.into(),
                })
            }
            Err(e) => Err(unreachable(format!("{host} port {port} did not complete an SSH handshake: {e}"))),
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(unreachable(format!(
            "{host} port {port} did not complete an SSH handshake within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}
