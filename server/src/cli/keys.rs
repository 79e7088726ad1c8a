//! `strongroom keys rotate`: parses the arguments, runs `crypto::rotation` and prints its
//! progress (key ids and counts only) and what to do next.

use super::{KeysCommand, RotateKeys};
use crate::config::Config;
use crate::crypto::rotation::{self, Limits, Outcome, Progress};
use crate::domain::now_ms;

pub async fn run_keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate(args) => rotate(config, args).await,
    }
}

async fn rotate(config: &Config, args: RotateKeys) -> anyhow::Result<()> {
    let limits = Limits { batch_size: args.batch_size, max_batches: args.max_batches };
    let outcome = rotation::rotate(config, &args.new_key_file, limits, now_ms(), print_progress).await?;
    match outcome {
        Outcome::Paused { batches, remaining } => println!(
            "Stopped after {batches} batches; {remaining} secrets and credentials remain under the old \
             key. Run the same command again to continue."
        ),
        Outcome::Finished { old_key_id, new_key_id } => println!(
            "Done: every secret and every set of credentials is under key id {new_key_id}, now the \
             active key (key id {old_key_id} is retired).\nNext: point STRONGROOM_KEY_FILE at {file} \
             (or set STRONGROOM_KEY to its base64) and restart the server; it now refuses to start \
             with the old key. If a server still running on the old key stored a secret before that \
             restart, run this command again: it moves the stragglers. Keep the old key as long as you \
             keep database backups taken before now.",
            file = args.new_key_file.display(),
        ),
    }
    Ok(())
}

fn print_progress(progress: Progress) {
    match progress {
        Progress::Started { old_key_id, new_key_id } => {
            eprintln!("Rotating from key id {old_key_id} to key id {new_key_id}.")
        }
        Progress::Rewrapped { done, total } => println!("re-wrapped {done} of {total}"),
    }
}
