//! A small, wire-faithful fake of the Google Secret Manager REST API v1, for driving the real
//! `google-cloud-secretmanager-v1` client in tests.
//!
//! Implemented, with Google's paths, JSON field names (camelCase), base64 payloads and error
//! format (`{"error": {"code": 409, "message": "...", "status": "ALREADY_EXISTS"}}`):
//! - `POST   /v1/projects/{p}/secrets?secretId=`            CreateSecret (`ttl` → `expireTime`)
//! - `GET    /v1/projects/{p}/secrets?filter=&pageSize=&pageToken=`  ListSecrets
//! - `GET    /v1/projects/{p}/secrets/{s}`                  GetSecret
//! - `DELETE /v1/projects/{p}/secrets/{s}?etag=`            DeleteSecret
//! - `POST   /v1/projects/{p}/secrets/{s}:addVersion`       AddSecretVersion
//! - `GET    /v1/projects/{p}/secrets/{s}/versions?...`     ListSecretVersions
//! - `GET    /v1/projects/{p}/secrets/{s}/versions/{v}`     GetSecretVersion (`v` may be `latest`)
//! - `GET    /v1/projects/{p}/secrets/{s}/versions/{v}:access`  AccessSecretVersion
//!
//! Like Google, names in answers carry the project *number* (`projects/123456789012/...`) while
//! requests may use the id or the number; enums are numbers when the client asks for
//! `$alt=json;enum-encoding=int` (Google's client libraries do) and names otherwise; ids, label
//! keys and values, the 64 KiB payload limit, the required `replication` and the `etag` of
//! DeleteSecret are checked.
//!
//! Test controls on [`FakeGsm`]: [`FakeGsm::secrets`] (state), [`FakeGsm::set_faults`] (a seeded
//! fraction of calls answered 429 RESOURCE_EXHAUSTED and another answered 503 UNAVAILABLE, before
//! any effect), [`FakeGsm::deny`] (403 PERMISSION_DENIED for calls needing a permission),
//! [`FakeGsm::set_default_page_size`], [`FakeGsm::calls`] (what was called, for counting),
//! [`FakeGsm::effects`] (what took effect: a secret made, a version added, a secret deleted),
//! [`FakeGsm::set_delay`] (every answer waits this long, like a distant region).
//!
//! And the Google Batch API v1 calls of the head job (`batch`): `POST …/locations/{l}/jobs?jobId=`,
//! `GET` and `DELETE …/locations/{l}/jobs/{j}`; [`FakeGsm::set_job_state`] scripts a job's
//! state, [`FakeGsm::jobs`] and [`FakeGsm::deleted_jobs`] show them.
//!
//! Not implemented (the client as Strongroom uses it never sends these): regional secrets
//! (`/locations/`), UpdateSecret, version disable/enable/destroy, IAM policy methods, rotation,
//! topics, CMEK, version aliases, `versionDestroyTtl`, tags; filters other than conjunctions
//! (`AND` or space) of `labels.KEY=VALUE`, `labels.KEY:VALUE`, `labels.KEY:*`, `name:TEXT`;
//! `dataCrc32c` checksums; authentication (no token is checked, only counted); quotas (only the
//! injected faults); the eventual `ttl` expiry (only `expireTime` is set); faults that strike
//! after the effect (a lost answer).
//!
//! One job per file: `secrets` and `versions` handle the calls, `gate` records every call and
//! injects the faults and denials, `answers` writes Google's wire format.

// The handlers' early answers are `Err(Response)`: a large error type, but boxing it would only
// add noise to a test fake that answers a handful of calls.
#![allow(clippy::result_large_err)]

mod answers;
mod batch;
mod gate;
mod secrets;
mod versions;

use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::Router;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const PROJECT_NUMBER: &str = "123456789012";

/// One secret as the fake holds it.
#[derive(Debug, Clone)]
pub struct FakeSecret {
    /// `projects/<number>/secrets/<id>`
    pub name: String,
    pub id: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub replication: Value,
    /// The `ttl` the client sent (`"604800s"`), and the `expireTime` Google derives from it.
    pub ttl: Option<String>,
    pub expire_time: Option<String>,
    pub create_time: String,
    pub etag: String,
    pub versions: Vec<FakeVersion>,
}

#[derive(Debug, Clone)]
pub struct FakeVersion {
    pub number: u64,
    pub data: Vec<u8>,
    /// `ENABLED`, `DISABLED` or `DESTROYED`.
    pub state: &'static str,
    pub create_time: String,
}

/// One Google Batch job as the fake holds it: the `Job` as created, and the state and status
/// events a test scripts ([`FakeGsm::set_job_state`]).
#[derive(Debug, Clone)]
pub struct FakeJob {
    /// `projects/<number>/locations/<l>/jobs/<id>`
    pub name: String,
    pub id: String,
    pub body: Value,
    pub state: String,
    pub events: Vec<String>,
    pub create_time: String,
}

#[derive(Debug, Clone, Default)]
struct Faults {
    throttle: f64,
    unavailable: f64,
}

struct Inner {
    /// Keyed by secret id (one project number for every project id).
    secrets: BTreeMap<String, FakeSecret>,
    faults: Faults,
    rng: StdRng,
    denied: Vec<String>,
    default_page_size: usize,
    calls: Vec<String>,
    /// `"created <id>"`, `"version <id>"`, `"deleted <id>"` for each call that changed something.
    effects: Vec<String>,
    authorized_calls: usize,
    etag_counter: u64,
    /// Google Batch jobs by id, and the ones deleted (in order).
    jobs: BTreeMap<String, FakeJob>,
    deleted_jobs: Vec<FakeJob>,
}

#[derive(Clone)]
pub struct FakeGsm {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    /// Milliseconds every call waits before it is handled.
    delay_ms: Arc<AtomicU64>,
}

impl FakeGsm {
    pub async fn start() -> FakeGsm {
        let inner = Arc::new(Mutex::new(Inner {
            secrets: BTreeMap::new(),
            faults: Faults::default(),
            rng: StdRng::seed_from_u64(0),
            denied: Vec::new(),
            default_page_size: 25,
            calls: Vec::new(),
            effects: Vec::new(),
            authorized_calls: 0,
            etag_counter: 0,
            jobs: BTreeMap::new(),
            deleted_jobs: Vec::new(),
        }));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let delay = delay_ms.clone();
        let app = Router::new()
            .route("/v1/projects/{project}/secrets", get(secrets::list_secrets).post(secrets::create_secret))
            .route(
                "/v1/projects/{project}/secrets/{secret}",
                get(secrets::get_secret).delete(secrets::delete_secret).post(versions::secret_action),
            )
            .route("/v1/projects/{project}/secrets/{secret}/versions", get(versions::list_versions))
            .route("/v1/projects/{project}/secrets/{secret}/versions/{version}", get(versions::get_version))
            .route("/v1/projects/{project}/locations/{location}/jobs", axum::routing::post(batch::create_job))
            .route(
                "/v1/projects/{project}/locations/{location}/jobs/{job}",
                get(batch::get_job).delete(batch::delete_job),
            )
            .fallback(|method: Method, uri: axum::http::Uri| async move {
                answers::error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    &format!("The fake has no {method} {}", uri.path()),
                )
            })
            .with_state(inner.clone())
            .layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| {
                let wait = std::time::Duration::from_millis(delay.load(Ordering::Relaxed));
                async move {
                    tokio::time::sleep(wait).await;
                    next.run(request).await
                }
            }));
        let listener =
            tokio::net::TcpListener::bind((crate::helpers::EMULATOR_HOST, 0)).await.expect("bind the fake");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the fake serves") });
        FakeGsm { addr, inner, delay_ms }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every secret held, by id.
    pub fn secrets(&self) -> BTreeMap<String, FakeSecret> {
        self.lock().secrets.clone()
    }

    /// Puts a secret in place as someone else would have made it.
    pub fn insert(&self, id: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) {
        let mut inner = self.lock();
        let secret = FakeSecret {
            name: format!("projects/{PROJECT_NUMBER}/secrets/{id}"),
            id: id.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            annotations: annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            replication: json!({"automatic": {}}),
            ttl: None,
            expire_time: None,
            create_time: answers::now(),
            etag: "\"fake-etag-0\"".into(),
            versions: Vec::new(),
        };
        inner.secrets.insert(id.into(), secret);
    }

    /// From now on, a fraction of calls is answered 429 RESOURCE_EXHAUSTED and another fraction
    /// 503 UNAVAILABLE, drawn from an RNG seeded with `seed`; the call then has no effect.
    pub fn set_faults(&self, throttle: f64, unavailable: f64, seed: u64) {
        let mut inner = self.lock();
        inner.faults = Faults { throttle, unavailable };
        inner.rng = StdRng::seed_from_u64(seed);
    }

    /// Every call from now on waits `delay` before it is handled (a slow, distant provider, so
    /// work is still in flight when a test kills a server).
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Calls needing `permission` (`secretmanager.secrets.create`, ...) get 403 PERMISSION_DENIED.
    pub fn deny(&self, permission: &str) {
        self.lock().denied.push(permission.into());
    }

    pub fn set_default_page_size(&self, size: usize) {
        self.lock().default_page_size = size;
    }

    /// `"<METHOD> <path>"` of every call received, in order (faulted ones included).
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Every Google Batch job that exists, by id.
    pub fn jobs(&self) -> BTreeMap<String, FakeJob> {
        self.lock().jobs.clone()
    }

    /// The Google Batch jobs deleted (`jobs.delete`), in order.
    pub fn deleted_jobs(&self) -> Vec<FakeJob> {
        self.lock().deleted_jobs.clone()
    }

    /// Scripts a job's state (`QUEUED`, `SCHEDULED`, `RUNNING`, `SUCCEEDED`, `FAILED`) and adds a
    /// status event with `description`, as Google Batch would.
    pub fn set_job_state(&self, id: &str, state: &str, description: &str) {
        let mut inner = self.lock();
        let job = inner.jobs.get_mut(id).unwrap_or_else(|| panic!("no job {id}"));
        job.state = state.into();
        job.events.push(description.into());
    }

    /// What took effect, in order: `"created <id>"`, `"version <id>"` and `"deleted <id>"`, one
    /// per call that made a secret, added a version or deleted a secret. Calls refused (a fault,
    /// a conflict, not found) are not here, so a test can count what a provider really did.
    pub fn effects(&self) -> Vec<String> {
        self.lock().effects.clone()
    }

    /// How many calls carried an `Authorization` header.
    pub fn authorized_calls(&self) -> usize {
        self.lock().authorized_calls
    }
}

/// The fake's state, shared by its handlers.
type Shared = Arc<Mutex<Inner>>;
