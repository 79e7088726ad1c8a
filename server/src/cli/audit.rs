//! `strongroom audit verify`: walks the hash chain next to the database (the server may keep
//! running) and names the first entry that was altered or removed.

use super::AuditCommand;
use crate::config::Config;
use crate::db::Db;

pub async fn run_audit(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(config).await,
    }
}

async fn verify(config: &Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url()).await?;
    match crate::audit::verify(&db.pool).await? {
        Ok(verified) => {
            println!("The audit log is intact: {} entries verified.", verified.entries);
            Ok(())
        }
        Err(broken) => anyhow::bail!("{broken}. Entries before it are intact."),
    }
}
