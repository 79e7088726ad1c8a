//! What the UI's server functions and the REST API may ask of the server: one trait per job of an
//! area, each method with the full signature both callers need. The `server` crate's domain
//! implements each trait once, in the file that holds its rules (each file here names it), so
//! authorization happens in one place and neither a server function nor a REST handler holds
//! policy of its own. The server hands the implementations to server functions as one context
//! value, `Ports`.

mod accounts;
mod audit;
mod compute_envs;
mod credentials;
mod host_identity;
mod identities;
mod launch;
mod runs;
mod secrets;
mod tokens;
mod trace;
mod workspaces;

pub use accounts::AccountsPort;
pub use audit::AuditPort;
pub use compute_envs::{CloudIdentityPort, ComputeCheckPort, ComputeEnvChange, ComputeEnvsPort};
pub use credentials::{CredentialKeysInput, CredentialsInUse, CredentialsPort, DeleteCredentialsError};
pub use host_identity::{HostIdentityGrant, HostIdentityPort};
pub use identities::{
    IdentitiesPort, InUseSubject, ManagedCredentialsError, ManagedCredentialsInUse, ManagedCredentialsInput,
    ManagedCredentialsQuery, SshKeysInput,
};
pub use launch::LaunchPort;
pub use runs::RunsPort;
pub use secrets::SecretsPort;
pub use tokens::TokensPort;
pub use trace::{TracePort, TracedRun};
pub use workspaces::WorkspacesPort;

use crate::model::SessionUser;
use std::sync::Arc;

/// A `Set-Cookie` header value the server function should send back.
pub struct SetCookie(pub String);

/// Who sent the request, as resolved by the server's authentication middleware and stored in the
/// request's extensions.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: SessionUser,
    /// The session row, when the request came with a browser session (not a bearer token).
    pub session_id: Option<i64>,
}

/// Where a request came from, for rate limiting and the audit trail.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: String,
}

/// One page of a longer list, and how many items the whole list has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Every port, as the one context value server functions read (`api::context::ports`) and the
/// REST handlers hold in their state. Cloning clones the `Arc`s.
#[derive(Clone)]
pub struct Ports {
    pub accounts: Arc<dyn AccountsPort>,
    pub workspaces: Arc<dyn WorkspacesPort>,
    pub compute_envs: Arc<dyn ComputeEnvsPort>,
    pub compute_checks: Arc<dyn ComputeCheckPort>,
    pub cloud_identity: Arc<dyn CloudIdentityPort>,
    pub credentials: Arc<dyn CredentialsPort>,
    pub host_identity: Arc<dyn HostIdentityPort>,
    pub identities: Arc<dyn IdentitiesPort>,
    pub launch: Arc<dyn LaunchPort>,
    pub runs: Arc<dyn RunsPort>,
    pub trace: Arc<dyn TracePort>,
    pub secrets: Arc<dyn SecretsPort>,
    pub tokens: Arc<dyn TokensPort>,
    pub audit: Arc<dyn AuditPort>,
}
