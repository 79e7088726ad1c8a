//! Strongroom's server: configuration, storage, policy and the HTTP surfaces (pages, server
//! functions, REST API). `main.rs` is a thin CLI over this library so the integration tests can
//! start the real application on port 0.

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
pub mod policy;
pub mod providers;
pub mod startup;
pub mod telemetry;
