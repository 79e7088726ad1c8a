//! Server functions: the UI's door to the server. Each one gets the caller and the backend, calls
//! one backend method and returns. No policy lives here: the backend decides.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod compute;
pub mod identities;
pub mod members;
pub mod runs;
pub mod secrets;
pub mod tokens;
pub mod workspaces;

#[cfg(feature = "ssr")]
pub(crate) mod context;
