//! Building the application: database, domain, router. `Application::build` binds the listener
//! first so tests can ask for port 0 and learn the real port before serving.

use crate::config::Config;
use crate::crypto::{kek_file, kek_registry, Kek};
use crate::db::Db;
use crate::domain::accounts::rate_limit::LoginRateLimiter;
use crate::domain::accounts::session::SessionPolicy;
use crate::domain::accounts::Accounts;
use crate::domain::{now_ms, Core, Domain};
use crate::http::middleware::RequestGuard;
use crate::http::ops::Metrics;
use crate::http::state::AppParts;
use crate::http::AppState;
use anyhow::Context;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

/// Loads the key, opens the database and builds the domain's core, without listening: the CLI
/// and the tests use this too. Refuses a key file that does not match the database.
pub async fn build_core(config: &Config) -> anyhow::Result<Core> {
    let kek = Kek::new(kek_file::load_configured(config)?);
    let db = Db::connect(&config.database_url()).await?;
    kek_registry::verify_or_register(&db, &kek, now_ms()).await?;
    let install_id = crate::db::installation::id_or_create(&db.pool, now_ms()).await?;
    Ok(Core {
        writes: crate::audit::AuditedWrites::new(db.clone()),
        db,
        kek: Arc::new(kek),
        data_dir: absolute_data_dir(config)?,
        public_url: config.public_url.clone(),
        install_id,
        jobs: crate::domain::JobSettings::from_config(config)?,
        stores: Default::default(),
        worker_wake: Default::default(),
        endpoints: crate::providers::endpoints::EndpointPolicy::new(&config.endpoint_allow),
        // Host identity (issue 10, item 5).
        aws_host_credentials_file: config.aws_host_credentials_file.clone(),
        hpc_host: Arc::new(hpc_host(config)?),
        oidc: Arc::new(crate::oidc::Issuer::from_config(config)?),
        azure: crate::providers::azure::AzureAuthority::new(&config.azure_authority_host)
            .map_err(|e| anyhow::anyhow!("azure_authority_host: {e}"))?,
        recent_tokens: Default::default(),
        recent_secret_reads: Default::default(),
    })
}

/// The core and every area's service on top of it, without listening (the CLI's commands).
pub async fn build_domain(config: &Config) -> anyhow::Result<Domain> {
    let login_limiter = LoginRateLimiter::with_audit_window(
        config.login_attempts_per_minute,
        Duration::from_secs(config.login_refusal_audit_secs),
    );
    Ok(Domain::new(build_core(config).await?, SessionPolicy::from_config(config), login_limiter))
}

/// The HPC settings, checked: a forbidden variable name, a relative root or an unknown launch
/// account stops the start with the setting's name.
fn hpc_host(config: &Config) -> anyhow::Result<crate::providers::hpc::host::HpcHost> {
    let data_dir = absolute_data_dir(config)?;
    // What a launch command must never read: the key file (unless the key is given in
    // STRONGROOM_KEY, when no file is read) and a SQLite database file.
    let mut protected = Vec::new();
    if config.key.is_none() {
        protected.push(("key file", std::path::absolute(config.key_file())?));
    }
    if let Some(file) = crate::providers::hpc::host::sqlite_file(&config.database_url()) {
        protected.push(("database file", std::path::absolute(file)?));
    }
    crate::providers::hpc::host::HpcHost::from_settings(
        &config.hpc_work_roots,
        config.launch_account.as_deref(),
        &config.launch_env_allow,
        &data_dir,
        protected,
    )
    .map_err(anyhow::Error::msg)
}

/// The configured data directory as an absolute path (it need not exist yet).
fn absolute_data_dir(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    std::path::absolute(&config.data_dir)
        .with_context(|| format!("could not resolve the data directory {}", config.data_dir.display()))
}

impl Application {
    /// Builds the app and then listens on `config.addr`: a server that cannot start (no key, a
    /// database it cannot read) never listens.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let domain = build_domain(&config).await?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("could not listen on {}", config.addr))?;
        Self::assemble(config, domain, listener)
    }

    /// Builds the app to serve on a listener already bound by the caller. The tests bind port 0
    /// themselves and keep the socket: a port chosen, released and bound again later could be
    /// taken in between by any other socket of the machine.
    pub async fn build_on(config: Config, listener: std::net::TcpListener) -> anyhow::Result<Application> {
        let domain = build_domain(&config).await?;
        listener.set_nonblocking(true)?;
        Self::assemble(config, domain, TcpListener::from_std(listener)?)
    }

    fn assemble(config: Config, domain: Domain, listener: TcpListener) -> anyhow::Result<Application> {
        crate::domain::accounts::password::warm_up();
        let local_addr = listener.local_addr()?;
        // `cargo xtask site` names the JS, WASM and CSS by their content; its hash file tells
        // Leptos the names (absolute, or Leptos would look beside the executable).
        let hash_file = crate::http::site_files::hash_file(&config.site_root);
        let leptos_options = LeptosOptions::builder()
            .output_name("strongroom")
            .hash_files(hash_file.is_some())
            .hash_file(hash_file.map_or_else(|| "hash.txt".into(), |path| path.display().to_string().into()))
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .env(if std::env::var("LEPTOS_ENV").is_ok_and(|e| e.eq_ignore_ascii_case("dev")) {
                Env::DEV
            } else {
                Env::PROD
            })
            .build();
        let request_guard = RequestGuard::from_config(&config).map_err(anyhow::Error::msg)?;
        let state = AppState::new(AppParts {
            ports: domain.ports(),
            domain,
            metrics: Metrics::new(),
            leptos_options,
            request_guard,
        });
        let router = crate::http::router::router(state.clone());
        Ok(Application { listener, router, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tokio::spawn(housekeeping(self.state.domain.accounts.clone()));
        if self.state.domain.core.db.backend == crate::db::Backend::Sqlite {
            tokio::spawn(wal_checkpoints(self.state.domain.core.db.clone()));
        }
        tokio::spawn(audit_refused_sign_ins(self.state.domain.accounts.clone()));
        crate::jobs::spawn(self.state.domain.core.clone());
        tracing::info!(addr = %self.local_addr(), "Strongroom is listening");
        // Asked to stop, the server takes no new connection and lets the requests in flight
        // finish, but for `SHUTDOWN_GRACE` at most: a client that keeps a connection open (or a
        // request that never ends) must not keep the process from stopping.
        let (stopping, mut stop_asked) = tokio::sync::watch::channel(false);
        let serve =
            axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    shutdown_signal().await;
                    let _ = stopping.send(true);
                });
        let grace_over = async move {
            if stop_asked.wait_for(|asked| *asked).await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                // The server ended on its own (the sender is gone): nothing to wait for.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = serve.into_future() => served?,
            () = grace_over => tracing::warn!(
                grace_secs = SHUTDOWN_GRACE.as_secs(),
                "requests still open when the shutdown grace ended; stopping without them"
            ),
        }
        Ok(())
    }
}

/// How long a stopping server waits for the requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Periodic clean-up: ended sessions and idle rate-limit keys.
async fn housekeeping(accounts: Arc<Accounts>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        accounts.sweep().await;
    }
}

/// SQLite: the write-ahead log copied into the database file in the background (see
/// `Db::checkpoint_wal`). A failure is logged and tried again at the next tick; SQLite's own
/// checkpoint at commit time remains as the fallback.
async fn wal_checkpoints(db: Db) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = db.checkpoint_wal().await {
            tracing::warn!(%error, "background WAL checkpoint failed");
        }
    }
}

/// Writes the audit entry of each window of rate-limited sign-ins once it has ended.
async fn audit_refused_sign_ins(accounts: Arc<Accounts>) {
    let period = accounts.login_limiter.audit_window().min(Duration::from_secs(10));
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        accounts.flush_refused_sign_ins().await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
