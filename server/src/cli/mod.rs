//! The `strongroom` command line: serving; administration and key rotation run next to the
//! database; and `secrets`, a client of a running server's REST API (no database, no key).
//! Secret values and passwords are read from a file or standard input, never from an argument,
//! where other users could read them in the process list.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod admin;
mod audit;
pub mod input;
mod keys;
mod oidc;
mod secrets;

pub use admin::run_admin;
pub use audit::run_audit;
pub use input::read_secret;
pub use keys::run_keys;
pub use oidc::run_oidc;
pub use secrets::run_secrets;

#[derive(Parser)]
#[command(name = "strongroom", version, about = "Self-hosted pipeline secrets for Nextflow")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the web app and the API (the default).
    Serve,
    /// Administration that works directly on the database (no server needed).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The key-encryption key, next to the database (the server may keep running).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Pipeline secrets through a running server's API (STRONGROOM_URL, STRONGROOM_ACCESS_TOKEN).
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// The audit log, next to the database (the server may keep running).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The OIDC issuer's signing keys (the server may keep running; replicas share the directory).
    #[command(subcommand)]
    Oidc(OidcCommand),
}

#[derive(Subcommand)]
pub enum OidcCommand {
    /// Add the next signing key: published at once, signing after --publish-for; deletes the
    /// keys whose every token has expired.
    Rotate(RotateOidc),
    /// List the signing keys: id, when each signs from, and whether it is published.
    Keys,
}

#[derive(Args)]
pub struct RotateOidc {
    /// Seconds between publishing the new key and signing with it, so clouds that cache the
    /// issuer's keys (AWS, Google and Azure do, for up to an hour) have fetched it by then.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=7 * 24 * 3600))]
    pub publish_for: u64,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names the first altered or removed entry and exits non-zero.
    Verify,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an instance administrator (the first one, or another).
    Create(CreateAdmin),
    /// Print a new personal access token for an existing user (for automation).
    Token(CreateToken),
}

#[derive(Args)]
pub struct CreateAdmin {
    #[arg(long)]
    pub email: String,
    /// Display name; defaults to the part of the email before '@'.
    #[arg(long)]
    pub name: Option<String>,
    /// File holding the password, or '-' for standard input. Never on the command line, where
    /// other users could read it in the process list.
    #[arg(long)]
    pub password_file: PathBuf,
}

#[derive(Args)]
pub struct CreateToken {
    /// The user the token acts as.
    #[arg(long)]
    pub email: String,
    /// The token's name, unique among that user's tokens.
    #[arg(long)]
    pub name: String,
    /// Lifetime in days (1 to 3650); without it the token does not expire.
    #[arg(long)]
    pub expires_in_days: Option<i64>,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Re-wrap every secret's data key under a new key-encryption key, then make it active.
    Rotate(RotateKeys),
}

#[derive(Args)]
pub struct RotateKeys {
    /// The new key: 32 bytes, mode 0600 (e.g. `(umask 077; head -c 32 /dev/urandom > new.key)`).
    #[arg(long)]
    pub new_key_file: PathBuf,
    /// Rows re-wrapped per transaction.
    #[arg(
        long,
        default_value_t = 100,
        value_parser = clap::value_parser!(i64).range(1..=10_000),
        hide = true
    )]
    pub batch_size: i64,
    /// Stop after this many batches (to test resuming an interrupted rotation).
    #[arg(long, hide = true)]
    pub max_batches: Option<u64>,
}

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// List secrets: name, id and dates (never values).
    List(ListSecrets),
    /// Create a secret.
    Add(WriteSecret),
    /// Replace a secret's value.
    Update(WriteSecret),
    /// Delete a secret.
    Delete(NamedSecret),
}

/// Which secrets: a workspace's, or (without one) the caller's own.
#[derive(Args, Clone, Copy)]
pub struct SecretTarget {
    /// Workspace id; overrides STRONGROOM_WORKSPACE_ID and TOWER_WORKSPACE_ID. Without any of
    /// them, the command works on your own secrets.
    #[arg(long)]
    pub workspace: Option<i64>,
}

#[derive(Args)]
pub struct ListSecrets {
    #[command(flatten)]
    pub target: SecretTarget,
    /// Print the server's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct WriteSecret {
    #[command(flatten)]
    pub target: SecretTarget,
    #[arg(long)]
    pub name: String,
    /// File holding the value, or '-' for standard input (one trailing newline is dropped).
    #[arg(long)]
    pub value_file: PathBuf,
}

#[derive(Args)]
pub struct NamedSecret {
    #[command(flatten)]
    pub target: SecretTarget,
    #[arg(long)]
    pub name: String,
}
