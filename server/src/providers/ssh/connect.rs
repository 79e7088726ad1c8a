//! Reaching the cluster: TCP, the SSH handshake with the host-key check, public-key
//! authentication as the account, then the account's uid (`id -u`, once per connection) for
//! the ownership checks. A store keeps one [`Connection`] and reopens it when it drops.

use super::errors::{transport, SshError};
use super::exec;
use super::host_key::HostKeyCheck;
use super::key::SshKey;
use super::sftp::Sftp;
use russh::client::{self, Handle};
use russh::keys::PrivateKeyWithHashAlg;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How long reaching the host, the handshake and authentication may take together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as whom: the login node and the cluster account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshEndpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl std::fmt::Display for SshEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{} port {}", self.user, self.host, self.port)
    }
}

/// An authenticated SSH connection, with its SFTP session opened on first use.
pub struct Connection {
    pub handle: Handle<HostKeyCheck>,
    /// The account's uid on the cluster: what every directory of ours must be owned by.
    pub uid: u32,
    sftp: OnceCell<Sftp>,
}

impl Connection {
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// The connection's SFTP session (one channel, opened once).
    pub async fn sftp(&self) -> Result<&Sftp, SshError> {
        self.sftp.get_or_try_init(|| Sftp::open(&self.handle)).await
    }

    pub async fn run(&self, command: &str) -> Result<exec::Output, SshError> {
        exec::run(&self.handle, command, None).await
    }

    pub async fn close(&self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

/// Connects, checks the host key against `pinned` (any key when `None`, for a Check), and logs
/// in. `seen` receives the host key's fingerprint as soon as the host shows it.
pub async fn connect(
    endpoint: &SshEndpoint,
    key: &SshKey,
    pinned: Option<&str>,
    seen: &Arc<Mutex<Option<String>>>,
) -> Result<Connection, SshError> {
    let started = Instant::now();
    let result = tokio::time::timeout(CONNECT_TIMEOUT, handshake(endpoint, key, pinned, seen)).await;
    let ms = started.elapsed().as_millis() as u64;
    let outcome = match &result {
        Ok(Ok(_)) => "connected",
        Ok(Err(_)) => "failed",
        Err(_) => "timed out",
    };
    tracing::info!(host = %endpoint.host, port = endpoint.port, account = %endpoint.user, ms, outcome,
        "ssh connect");
    match result {
        Ok(connection) => connection,
        Err(_) => Err(SshError::Unreachable(format!(
            "{} port {} did not complete an SSH login within {} s",
            endpoint.host,
            endpoint.port,
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

async fn handshake(
    endpoint: &SshEndpoint,
    key: &SshKey,
    pinned: Option<&str>,
    seen: &Arc<Mutex<Option<String>>>,
) -> Result<Connection, SshError> {
    let socket =
        tokio::net::TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await.map_err(|e| {
            SshError::Unreachable(format!(
                "could not reach {} on port {}: {}",
                endpoint.host,
                endpoint.port,
                io_words(&e)
            ))
        })?;
    let _ = socket.set_nodelay(true);
    let config = client::Config {
        // Probes a quiet connection now and then, so a dead one is noticed and reopened.
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        ..client::Config::default()
    };
    *seen.lock().unwrap_or_else(|e| e.into_inner()) = None;
    let check = HostKeyCheck { pinned: pinned.map(str::to_owned), seen: seen.clone() };
    let mut handle = match client::connect_stream(Arc::new(config), socket, check).await {
        Ok(handle) => handle,
        Err(russh::Error::UnknownKey) => {
            let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default();
            return Err(SshError::HostKeyChanged { pinned: pinned.unwrap_or_default().into(), seen });
        }
        Err(e) => {
            return Err(SshError::Unreachable(format!(
                "{} port {} did not complete an SSH handshake: {e}",
                endpoint.host, endpoint.port
            )))
        }
    };
    let hash = if key.is_rsa() {
        handle.best_supported_rsa_hash().await.map_err(|e| transport("log in", &e))?.flatten()
    } else {
        None
    };
    let auth = handle
        .authenticate_publickey(&endpoint.user, PrivateKeyWithHashAlg::new(key.private(), hash))
        .await
        .map_err(|e| transport("log in", &e))?;
    if !auth.success() {
        return Err(SshError::AuthRefused {
            user: endpoint.user.clone(),
            host: endpoint.host.clone(),
            fingerprint: key.fingerprint(),
            public_line: key.public_line(),
        });
    }
    let id = exec::run(&handle, "id -u", None).await?;
    let uid = id.stdout.trim().parse::<u32>().ok().filter(|_| id.success()).ok_or_else(|| {
        SshError::Rejected(format!(
            "'id -u' did not print the uid of {} on {}: {}",
            endpoint.user,
            endpoint.host,
            id.reason()
        ))
    })?;
    Ok(Connection { handle, uid, sftp: OnceCell::new() })
}

/// An I/O error's kind in words (its OS text can be long; the kind is what helps).
fn io_words(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "the connection was refused (is sshd listening on that port?)".into(),
        ErrorKind::TimedOut => "the connection timed out".into(),
        ErrorKind::NotFound => "the host name does not resolve".into(),
        _ => error.to_string(),
    }
}
