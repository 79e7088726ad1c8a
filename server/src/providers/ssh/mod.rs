//! HPC over SSH: the Nextflow secrets store and the head job of a run, on a cluster's login node
//! reached over SSH as the run's own cluster account (shared SSH credentials, or a launcher's
//! managed credentials). Nothing is written on the Strongroom host.
//!
//! Guarantees:
//! - **Host key first.** A store opens with the cluster's pinned host key (`hostKeyFingerprint`,
//!   OpenSSH's `SHA256:<base64>`). A different key is refused inside the key exchange, before
//!   authentication: no key, name or byte of ours is sent to that host. A store opened without a
//!   pinned key ([`SshStore::open`] says so with [`SshStore::is_pinned`]) serves only `preflight`,
//!   which remembers the key it saw for the Check to pin; every other method refuses.
//! - **Private by construction, as the account.** The layout is
//!   `<workDir>/.strongroom-<account>/<installId>/<workflowId>/`: every directory is created 0700
//!   over SFTP and then checked (a real directory, not a link, owned by the account's uid, mode
//!   0700), else refused, so another account sharing a work directory (a 1777 `/scratch`) cannot
//!   plant one. `secrets.json` (Nextflow's `[{"name","value"}]`), `run-token` and the launch
//!   files are created 0600 (`head.sh` 0700) with `CREATE|EXCLUDE`, then renamed into place.
//! - **No value or token outside the files.** Command lines carry names, ids and paths only, each
//!   argument quoted (`shell-words`); the head-job script reads the run token from `run-token`;
//!   the scheduler's record holds only names and paths. Log lines name host, port, account, step
//!   and duration, never a key, token or value; messages never echo the private key.
//! - **Idempotent.** Writes are read-modify-write under an in-process lock per (host, account,
//!   run); deleting what is gone succeeds; a head job is submitted once (found again by its name
//!   `sr-<workflowId>` or its `job-id` marker); cancelling an ended job succeeds.
//! - **Bounded.** One SSH connection per store, reused by all of a run's calls and reopened once
//!   when it drops; connecting takes at most 10 s, a command 60 s, and command output is capped.
//!
//! Files: `connect` (endpoint, handshake, authentication, the reused connection), `host_key`,
//! `key` (the credentials), `exec` (commands), `sftp`, `layout` (paths and names), `run_files`
//! (the store and cleanup), `store` (`SecretStore`), `preflight`, `head_script`, `head_job`
//! (`HeadJobs`), `scheduler/` (one file per batch system), `errors`.

mod connect;
mod errors;
mod exec;
mod head_job;
mod head_script;
mod host_key;
mod host_probe;
pub mod key;
pub mod layout;
mod preflight;
mod run_files;
pub mod scheduler;
mod sftp;
mod store;

/// SSH's port when an environment or identity names none.
pub const DEFAULT_PORT: u16 = 22;

pub use host_key::fingerprint_is_valid;
pub use host_probe::probe_host_key;
pub use store::SshStore;
