//! Typed configuration from `STRONGROOM_*` environment variables, `DATABASE_URL`, and an optional
//! TOML file named by `STRONGROOM_CONFIG_FILE` (environment wins). A first run needs none of them.
//! `Debug` never prints credentials: a database URL's password shows as `***`, and the key given
//! in `STRONGROOM_KEY` shows only as present (`Some("***")`) or absent.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Where the SQLite database and the key file live by default.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to a SQLite file in the data directory.
    pub database_url: Option<String>,
    /// The 32-byte key-encryption key; generated with mode 0600 when absent.
    pub key_file: Option<PathBuf>,
    /// The key-encryption key itself, as standard base64 (`STRONGROOM_KEY`); wins over `key_file`.
    /// Never serialized, and redacted in `Debug`.
    #[serde(default, skip_serializing, deserialize_with = "secret_option")]
    pub key: Option<SecretString>,
    /// The external base URL people and runs reach this server at (links, cookies, OIDC issuer).
    pub public_url: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A session ends after this long without a request.
    pub session_idle_minutes: u64,
    /// A session ends this long after sign-in, whatever its activity.
    pub session_max_hours: u64,
    /// Failed and successful sign-ins allowed per email and per client address, per minute.
    pub login_attempts_per_minute: u32,
    /// Where `cargo xtask site` put the site (JS, WASM, CSS, their hash file).
    pub site_root: PathBuf,
    /// A run that sends no heartbeat for this long is marked failed and its copies deleted.
    pub run_heartbeat_timeout_secs: u64,
    /// A run still going after this long is ended and its copies deleted.
    pub run_max_duration_hours: u64,
    /// Copy workers in this server (each does one provider call at a time); 0 runs no jobs here.
    pub workers: usize,
    /// How often idle workers look for due work (they are also woken by launches and ends).
    pub worker_poll_ms: u64,
    /// First retry delay after a failed provider call; doubles per attempt up to the cap.
    pub retry_base_ms: u64,
    pub retry_cap_ms: u64,
    /// A copy that cannot be created after this many attempts fails the run.
    pub max_create_attempts: i64,
    /// How often the reconciler lists every target for leftover copies.
    pub reconcile_interval_secs: u64,
    /// How long after a run ended the reconciler leaves its copies to the worker.
    pub reconcile_grace_secs: u64,
    /// How often the state of a run's head job is asked of the cluster's scheduler (HPC over
    /// SSH); longer after errors.
    pub head_job_poll_ms: u64,

    // --- Cloud endpoints and provider deadlines (issue 10, items 3 and 4) ---
    /// Custom `endpointUrl`s anyone who manages compute may use, and the only way to reach a
    /// loopback, link-local, private, CGNAT or unspecified address. Each entry is a URL prefix
    /// (`http://10.0.0.5:4566/`), a `host:port` or a bare `host` (any port). Given in the
    /// environment as a comma-separated list. Other custom endpoints need an instance
    /// administrator, and must resolve to public addresses only.
    #[serde(default, deserialize_with = "list_of")]
    pub endpoint_allow: Vec<String>,
    /// How long a worker's claim on a step lasts (5 to 3600 s): a replica killed mid-step holds
    /// its steps this long before another takes them over. Provider deadlines are kept below it.
    pub claim_lease_secs: u64,
    /// The longest one provider step of a worker (open the store, one call) may take; kept below
    /// the claim lease so no worker holds a step past it.
    pub provider_call_timeout_ms: u64,
    /// The time the reconciler gives one target per pass; a slower target is reported and
    /// retried on the next pass, without delaying the others.
    pub reconcile_target_budget_secs: u64,
    /// How many targets the reconciler works on at once.
    pub reconcile_concurrency: usize,
    // Host identity (issue 10, item 5). Whether a workspace may act as this host's own cloud
    // identity is decided per workspace by an instance administrator
    // (`PUT /api/workspaces/{id}/host-identity`), not here.
    /// A shared-credentials file (AWS profile format, profile `default`) holding the identity
    /// lent to the workspaces allowed to use the host's; without it, the AWS SDK's default chain.
    #[serde(default)]
    pub aws_host_credentials_file: Option<PathBuf>,
    /// Where Azure's Microsoft Entra ID is reached for the client-assertion exchange of a run's
    /// Azure app registration (issue 14): Azure's public cloud by default; a sovereign cloud's
    /// authority host otherwise (`https://login.microsoftonline.us`). Head jobs get it as
    /// `AZURE_AUTHORITY_HOST` when it is not the default. An instance setting, not a workspace's:
    /// the exchange sends Strongroom's tokens there.
    pub azure_authority_host: String,
    // --- Request hardening (issue 10, item 8: client address, sign-in limit audit) ---
    /// Reverse proxies (IP addresses or CIDR networks) whose `Forwarded` / `X-Forwarded-For`
    /// headers name the client. From any other peer those headers are ignored. A list, or one
    /// comma-separated string (`STRONGROOM_TRUSTED_PROXIES=10.0.0.1,fd00::/8`).
    #[serde(default, deserialize_with = "list_of")]
    pub trusted_proxies: Vec<String>,
    /// Refused sign-in attempts from one address are audited as one entry per this many seconds.
    pub login_refusal_audit_secs: u64,
    // --- HPC launch commands and work directories (issue 10 items 1 and 6) ---
    /// The unprivileged system account launch commands run as when Strongroom runs as root
    /// (`STRONGROOM_LAUNCH_ACCOUNT`). As root without one, launch commands are refused.
    pub launch_account: Option<String>,
    /// Variable names of the server's environment passed on to launch commands besides `PATH`,
    /// `HOME` and `LANG` (`STRONGROOM_LAUNCH_ENV_ALLOW`, comma-separated). Names starting with
    /// `STRONGROOM_`, `DATABASE_URL`, `AWS_`, `GOOGLE_` or `AZURE_` are refused at start-up.
    #[serde(deserialize_with = "list_of")]
    pub launch_env_allow: Vec<String>,
    /// Absolute directories every HPC work directory must lie under (`STRONGROOM_HPC_WORK_ROOTS`,
    /// comma-separated). `<data_dir>/work` is always one (the local environments live there).
    #[serde(deserialize_with = "list_of")]
    pub hpc_work_roots: Vec<PathBuf>,
    // --- Strongroom as an OIDC issuer (issue 14); the issuer is `public_url` ---
    /// The directory of the issuer's RS256 signing keys, one PKCS#8 PEM file per key named by the
    /// Unix time it starts signing at (mode 0600, the directory 0700). Defaults to
    /// `<data_dir>/oidc-keys`; replicas share it like the key file. `strongroom oidc rotate`
    /// adds the next key.
    pub oidc_keys_dir: Option<PathBuf>,
    /// How long an issued token lives, in seconds: 60 to 3600.
    pub oidc_token_lifetime_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            key_file: None,
            key: None,
            public_url: "http://127.0.0.1:3000".into(),
            log_format: "text".into(),
            session_idle_minutes: 8 * 60,
            session_max_hours: 24,
            login_attempts_per_minute: 10,
            site_root: PathBuf::from("target/site"),
            run_heartbeat_timeout_secs: 15 * 60,
            run_max_duration_hours: 7 * 24,
            workers: 8,
            worker_poll_ms: 1000,
            retry_base_ms: 500,
            retry_cap_ms: 60_000,
            max_create_attempts: 8,
            reconcile_interval_secs: 300,
            reconcile_grace_secs: 600,
            head_job_poll_ms: 10_000,
            // Cloud endpoints and provider deadlines.
            endpoint_allow: Vec::new(),
            claim_lease_secs: 60,
            provider_call_timeout_ms: 30_000,
            reconcile_target_budget_secs: 120,
            reconcile_concurrency: 4,
            // Host identity (issue 10, item 5).
            aws_host_credentials_file: None,
            azure_authority_host: crate::providers::azure::PUBLIC_AUTHORITY_HOST.to_string(),
            // Request hardening (issue 10, item 8).
            trusted_proxies: Vec::new(),
            login_refusal_audit_secs: 60,
            launch_account: None,
            launch_env_allow: Vec::new(),
            hpc_work_roots: Vec::new(),
            oidc_keys_dir: None,
            oidc_token_lifetime_secs: 3600,
        }
    }
}

impl Config {
    /// Reads the file (if any) and the environment over the defaults.
    pub fn load() -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("STRONGROOM_CONFIG_FILE") {
            figment = figment.merge(Toml::file_exact(path));
        }
        let mut config: Config = figment
            .merge(Env::prefixed("STRONGROOM_").ignore(&["config_file"]))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(Box::new)?;
        // Leptos' own name for the site root is honoured too; our own variable still wins.
        if std::env::var_os("STRONGROOM_SITE_ROOT").is_none() {
            if let Some(root) = std::env::var_os("LEPTOS_SITE_ROOT") {
                config.site_root = PathBuf::from(root);
            }
        }
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("strongroom.db").display()))
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| self.data_dir.join("strongroom.key"))
    }

    /// Cookies get the `__Host-` prefix and `Secure` only when people reach us over HTTPS.
    pub fn oidc_keys_dir(&self) -> PathBuf {
        self.oidc_keys_dir.clone().unwrap_or_else(|| self.data_dir.join("oidc-keys"))
    }

    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The origin (scheme://host[:port]) of the public URL, for the cross-site request check.
    pub fn public_origin(&self) -> Option<String> {
        let url = url::Url::parse(&self.public_url).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

/// Reads an optional string straight into a `SecretString`.
fn secret_option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(SecretString::from))
}

/// A list given as a TOML array or as one comma-separated string (an environment variable).
fn list_of<'de, D: Deserializer<'de>, T: From<String>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => text.split(',').map(str::to_string).collect(),
        OneOrMany::Many(items) => items,
    };
    Ok(items.into_iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).map(T::from).collect())
}

/// Replaces the password of a URL with `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "***".into(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url()))
            .field("key_file", &self.key_file())
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("public_url", &self.public_url)
            .field("log_format", &self.log_format)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_max_hours", &self.session_max_hours)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .field("site_root", &self.site_root)
            .field("endpoint_allow", &self.endpoint_allow)
            .field("azure_authority_host", &self.azure_authority_host)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_database_passwords() {
        let config = Config {
            database_url: Some("postgres://app:hunter2-secret@db.local/strongroom".into()),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2-secret"), "{printed}");
        assert!(printed.contains("app:***@db.local"), "{printed}");
    }

    #[test]
    fn the_environment_key_is_read_but_never_printed() {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(("key", "c3VwZXItc2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcyE="));
        let config: Config = figment.extract().unwrap();
        assert!(config.key.is_some());
        let printed = format!("{config:?}");
        assert!(!printed.contains("c3VwZXItc2VjcmV0"), "{printed}");
        assert!(printed.contains(r#"key: Some("***")"#), "{printed}");
        let without: Config = Figment::from(Serialized::defaults(Config::default())).extract().unwrap();
        assert!(without.key.is_none());
        assert!(format!("{without:?}").contains("key: None"));
    }

    #[test]
    fn the_endpoint_allow_list_reads_from_a_list_or_comma_separated_text() {
        let from = |value: figment::value::Value| -> Config {
            Figment::from(Serialized::defaults(Config::default()))
                .merge(("endpoint_allow", value))
                .extract()
                .unwrap()
        };
        let commas = from("127.0.0.2, http://10.0.0.5:4566/ ,,".into());
        assert_eq!(commas.endpoint_allow, ["127.0.0.2", "http://10.0.0.5:4566/"]);
        let list = from(figment::value::Value::from(vec!["localhost:4566".to_string()]));
        assert_eq!(list.endpoint_allow, ["localhost:4566"]);
        assert!(Config::default().endpoint_allow.is_empty());
    }

    #[test]
    fn trusted_proxies_are_read_from_a_list_or_one_string() {
        let from_env: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(("trusted_proxies", "10.0.0.1, fd00::/8,192.168.0.0/16"))
            .extract()
            .unwrap();
        assert_eq!(from_env.trusted_proxies, ["10.0.0.1", "fd00::/8", "192.168.0.0/16"]);
        let from_file: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(("trusted_proxies", vec!["10.0.0.1"]))
            .extract()
            .unwrap();
        assert_eq!(from_file.trusted_proxies, ["10.0.0.1"]);
        assert!(Config::default().trusted_proxies.is_empty());
    }

    #[test]
    fn hpc_lists_come_from_comma_separated_variables_or_arrays() {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(("launch_env_allow", "HTTPS_PROXY, NXF_HOME"))
            .merge(("hpc_work_roots", vec!["/scratch/a", "/scratch/b"]));
        let config: Config = figment.extract().unwrap();
        assert_eq!(config.launch_env_allow, vec!["HTTPS_PROXY".to_string(), "NXF_HOME".to_string()]);
        assert_eq!(config.hpc_work_roots, vec![PathBuf::from("/scratch/a"), PathBuf::from("/scratch/b")]);
        let defaults: Config = Figment::from(Serialized::defaults(Config::default())).extract().unwrap();
        assert!(defaults.launch_env_allow.is_empty() && defaults.hpc_work_roots.is_empty());
    }

    #[test]
    fn first_run_defaults_to_sqlite_under_the_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://data/strongroom.db?mode=rwc");
        assert_eq!(config.key_file(), PathBuf::from("data/strongroom.key"));
        assert!(!config.is_https());
        assert_eq!(config.public_origin().as_deref(), Some("http://127.0.0.1:3000"));
    }
}
