//! Strongroom's server: configuration, storage, policy and the HTTP surfaces (pages, server
//! functions, REST API). `main.rs` is a thin CLI over this library so the integration tests can
//! start the real application on port 0.

pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod jobs;
pub mod ops;
pub mod providers;
pub mod rbac;
pub mod services;
pub mod startup;
pub mod telemetry;
