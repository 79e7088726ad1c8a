//! The `strongroom` command line: serving, and administration run next to the database.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod admin;

pub use admin::run_admin;

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
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an instance administrator (the first one, or another).
    Create(CreateAdmin),
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
