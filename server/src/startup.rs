//! Building the application: database, services, router. `Application::build` binds the listener
//! first so tests can ask for port 0 and learn the real port before serving.

use crate::auth::rate_limit::LoginRateLimiter;
use crate::auth::session::SessionPolicy;
use crate::config::Config;
use crate::crypto::{kek_file, kek_registry, Kek};
use crate::db::{sessions, Db};
use crate::ops::{self, Metrics};
use crate::services::{now_ms, Services};
use anyhow::Context;
use app::ports::{SharedAudit, SharedBackend, SharedCompute, SharedRuns, SharedSecrets, SharedTokens};
use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub metrics: Arc<Metrics>,
    pub leptos_options: LeptosOptions,
    /// Trusted proxies and the cross-site check (`auth::middleware`).
    pub request_guard: Arc<crate::auth::middleware::RequestGuard>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

/// Loads the key, opens the database and builds the services, without listening: the CLI uses
/// this too. Refuses a key file that does not match the database.
pub async fn build_services(config: &Config) -> anyhow::Result<Services> {
    let kek = Kek::new(kek_file::load_configured(config)?);
    let db = Db::connect(&config.database_url()).await?;
    kek_registry::verify_or_register(&db, &kek, now_ms()).await?;
    let install_id = crate::db::installation::id_or_create(&db.pool, now_ms()).await?;
    Ok(Services {
        db,
        kek: Arc::new(kek),
        sessions: SessionPolicy::from_config(config),
        login_limiter: LoginRateLimiter::with_audit_window(
            config.login_attempts_per_minute,
            Duration::from_secs(config.login_refusal_audit_secs),
        ),
        data_dir: absolute_data_dir(config)?,
        public_url: config.public_url.clone(),
        install_id,
        jobs: crate::services::JobSettings::from_config(config),
        stores: Default::default(),
        worker_wake: Default::default(),
        endpoints: crate::providers::endpoints::EndpointPolicy::new(&config.endpoint_allow),
        // Host identity (issue 10, item 5).
        aws_host_credentials_file: config.aws_host_credentials_file.clone(),
        hpc_host: Arc::new(hpc_host(config)?),
    })
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
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let services = Arc::new(build_services(&config).await?);
        crate::auth::password::warm_up();
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("could not listen on {}", config.addr))?;
        let local_addr = listener.local_addr()?;
        let leptos_options = LeptosOptions::builder()
            .output_name("strongroom")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(local_addr)
            .env(if std::env::var("LEPTOS_ENV").is_ok_and(|e| e.eq_ignore_ascii_case("dev")) {
                Env::DEV
            } else {
                Env::PROD
            })
            .build();
        let request_guard =
            crate::auth::middleware::RequestGuard::from_config(&config).map_err(anyhow::Error::msg)?;
        let state = AppState {
            services,
            metrics: Arc::new(Metrics::new()),
            leptos_options,
            request_guard: Arc::new(request_guard),
        };
        let router = router(state.clone());
        Ok(Application { listener, router, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tokio::spawn(housekeeping(self.state.services.clone()));
        tokio::spawn(audit_refused_sign_ins(self.state.services.clone()));
        crate::jobs::spawn(self.state.services.clone());
        tracing::info!(addr = %self.local_addr(), "Strongroom is listening");
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    }
}

fn router(state: AppState) -> Router {
    let backend: SharedBackend = state.services.clone();
    let secrets: SharedSecrets = state.services.clone();
    let audit: SharedAudit = state.services.clone();
    let tokens: SharedTokens = state.services.clone();
    let runs: SharedRuns = state.services.clone();
    let compute: SharedCompute = state.services.clone();
    let routes = generate_route_list(app::App);
    let leptos_options = state.leptos_options.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(backend.clone());
                provide_context(secrets.clone());
                provide_context(audit.clone());
                provide_context(tokens.clone());
                provide_context(runs.clone());
                provide_context(compute.clone());
            },
            move || app::shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell));

    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .merge(crate::api::router())
        .merge(pages)
        // A route layer sees the matched route template, which labels the metrics.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), ops::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::middleware::authenticate))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                    )
                }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Periodic clean-up: ended sessions and idle rate-limit keys.
async fn housekeeping(services: Arc<Services>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = now_ms();
        let idle_cutoff = now - services.sessions.idle_ms;
        let absolute_cutoff = now - services.sessions.absolute_ms;
        match sessions::delete_expired(&services.db.pool, idle_cutoff, absolute_cutoff).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "removed ended sessions"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not remove ended sessions"),
        }
        services.login_limiter.forget_idle();
    }
}

/// Writes the audit entry of each window of rate-limited sign-ins once it has ended.
async fn audit_refused_sign_ins(services: Arc<Services>) {
    let period = services.login_limiter.audit_window().min(Duration::from_secs(10));
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        services.flush_refused_sign_ins().await;
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
