//! One integration-test binary: every test starts the real application on port 0 with a fresh
//! database. `STRONGROOM_TEST_BACKEND=postgres` runs the same tests on PostgreSQL.

mod accounts;
mod audit;
mod aws_provider;
mod aws_runs;
mod browser_headers;
mod cli;
mod cluster_smoke;
mod compute_envs;
mod crash;
mod credentials;
mod credentials_rotation;
mod credentials_security;
mod endpoint_allow;
mod fakes;
mod faults;
mod gcp_provider;
mod hardening;
mod helpers;
mod hostile_endpoints;
mod hpc_security;
mod hpc_ssh;
mod identities;
mod leak;
mod openapi;
mod ops;
mod orgs;
mod participants;
mod proof;
mod replicas;
mod run_tokens;
mod runs;
mod secrets;
mod ssh_store;
mod support;
mod tokens;
