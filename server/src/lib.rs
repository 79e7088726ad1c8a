//! Strongroom's server. `main.rs` is a thin CLI over this library, so the integration tests can
//! start the real application on port 0 (`startup.rs`).
//!
//! How the modules stand on each other, from the outside in:
//! - `http/`: the router, the request middleware (who is calling, from where, same-site), the REST
//!   API in Seqera's paths (`http/rest/`) and `/health`, `/metrics`. `http/state.rs` is the
//!   application state alone. REST handlers and the UI's server functions call the same ports.
//! - `domain/`: the product's rules, one folder per area (`accounts`, `workspaces`, `secrets`,
//!   `compute`, `runs`); each `app::ports` trait is implemented once, in the file that holds its
//!   logic.
//! - `policy/`: the one place a workspace action is authorized (deny by default).
//! - `jobs/`: the background workers (copies, run steps, the timekeeper, the reconciler); the time
//!   is passed in, and clippy refuses a clock read inside them.
//! - `providers/`: where copies go (`aws/`, `gcp/`, `hpc/`), behind the `SecretStore` trait.
//! - `crypto/`: the key hierarchy: the key file, the key registry, envelope sealing bound to the
//!   row (`binding.rs`) and key rotation.
//! - `db/`: one file per table or aggregate; rows are decoded into the model's enums here.
//! - `oidc/`: Strongroom as an OpenID Connect issuer: signing keys, discovery, JWKS, run tokens.
//! - `audit/`: the hash-chained audit log. `cli/`: argument parsing and printing only.
//!
//! Where a secret is encrypted: `domain/secrets/sealing.rs`; authorized: `policy/mod.rs`; copied
//! to a run's target: `jobs/copies.rs`; its copies deleted when the run ends: `jobs/copies.rs`
//! (the end itself, `db/runs.rs::end`, marks every copy of the run for deletion in the same
//! transaction).
// The SSR view types of the app's larger pages (nested Suspense, forms, tables) are deep;
// rendering them here needs the same limit as the app crate.
#![recursion_limit = "256"]

pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod oidc;
pub mod policy;
pub mod providers;
pub mod startup;
pub mod telemetry;
