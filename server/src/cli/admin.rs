use super::{AdminCommand, CreateAdmin};
use crate::config::Config;
use crate::services::NewAccount;
use crate::startup::build_services;
use anyhow::Context;
use secrecy::SecretString;
use std::io::Read;
use std::path::Path;

pub async fn run_admin(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create(args) => create_admin(config, args).await,
    }
}

/// Reads a secret from a file or standard input, dropping one trailing newline (what `echo` and
/// editors add) but nothing else.
pub fn read_secret(path: &Path) -> anyhow::Result<SecretString> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).context("could not read standard input")?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    }
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(SecretString::from(text))
}

async fn create_admin(config: &Config, args: CreateAdmin) -> anyhow::Result<()> {
    let password = read_secret(&args.password_file)?;
    let services = build_services(config).await?;
    let name = args.name.unwrap_or_else(|| args.email.split('@').next().unwrap_or_default().to_string());
    let account = NewAccount { email: args.email, display_name: name, password, is_instance_admin: true };
    let user = services.create_admin_from_cli(account).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Created instance administrator {} (id {}).", user.email, user.id);
    Ok(())
}
