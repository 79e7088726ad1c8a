use super::input::read_secret;
use super::{AdminCommand, CreateAdmin, CreateToken};
use crate::config::Config;
use crate::db::users;
use crate::domain::NewAccount;
use crate::startup::build_domain;
use anyhow::bail;
use app::model::{normalize_email, SessionUser};
use app::ports::TokensPort;
use secrecy::ExposeSecret;

pub async fn run_admin(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create(args) => create_admin(config, args).await,
        AdminCommand::Token(args) => create_token(config, args).await,
    }
}

async fn create_admin(config: &Config, args: CreateAdmin) -> anyhow::Result<()> {
    let password = read_secret(&args.password_file)?;
    let domain = build_domain(config).await?;
    let name = args.name.unwrap_or_else(|| args.email.split('@').next().unwrap_or_default().to_string());
    let account = NewAccount { email: args.email, display_name: name, password, is_instance_admin: true };
    let user = domain.accounts.create_admin_from_cli(account).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Created instance administrator {} (id {}).", user.email, user.id);
    Ok(())
}

/// Prints only the token on standard output (so `TOKEN=$(strongroom admin token …)` works); the
/// explanation goes to standard error. The token service hashes and stores it as for the API.
async fn create_token(config: &Config, args: CreateToken) -> anyhow::Result<()> {
    let domain = build_domain(config).await?;
    let email = normalize_email(&args.email);
    let Some(row) = users::find_by_email(&domain.core.db.pool, &email).await? else {
        bail!("there is no user with the email {email}");
    };
    if row.is_disabled() {
        bail!("the user {email} is disabled; enable the account before giving it a token");
    }
    // The same mapping as `domain::accounts::session_user`, which is private to the domain.
    let actor = SessionUser {
        id: row.id,
        email: row.email.clone(),
        display_name: row.display_name.clone(),
        is_instance_admin: row.is_instance_admin(),
    };
    let (info, token) = domain
        .tokens
        .create_token(&actor, args.name, args.expires_in_days)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", token.expose_secret());
    let lifetime = match args.expires_in_days {
        Some(days) => format!("expires in {days} days"),
        None => "does not expire".to_string(),
    };
    eprintln!(
        "Created access token '{}' (id {}) for {email}; it {lifetime}. It is shown once: store it now. \
         Use it as `Authorization: Bearer <token>` or STRONGROOM_ACCESS_TOKEN.",
        info.name, info.id
    );
    Ok(())
}
