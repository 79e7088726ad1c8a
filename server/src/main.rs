use clap::Parser;
use server::cli::{run_admin, run_audit, run_keys, run_oidc, run_secrets, Cli, Command};
use server::config::Config;
use server::startup::Application;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // An API client: needs neither the server's configuration, nor its database, nor its key.
    if let Command::Secrets(command) = command {
        return exit_code(run_secrets(command).await);
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("strongroom: invalid configuration: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    server::telemetry::init(&config.log_format, ansi, std::io::stderr);
    let result = match command {
        Command::Serve => serve(config).await,
        Command::Admin(command) => run_admin(&config, command).await,
        Command::Keys(command) => run_keys(&config, command).await,
        Command::Audit(command) => run_audit(&config, command).await,
        Command::Oidc(command) => run_oidc(&config, command),
        Command::Secrets(_) => unreachable!("handled above"),
    };
    exit_code(result)
}

fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("strongroom: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(config = ?config, "starting");
    Application::build(config).await?.run_until_stopped().await
}
