//! Starting the head job of an HPC run whose compute environment has a launch command (an
//! `sbatch` wrapper, or `nextflow run …` for the local scheduler). The command runs with the
//! launch environment and a **run token**: an access token of the launcher made for this run
//! alone, which expires with the maximum run duration and is deleted when the run is cleaned.
//! The token is passed in the child's environment only; it is never logged or stored in clear.

use super::stores::RunTarget;
use super::{now_ms, Services};
use crate::db::{runs, tokens};
use app::model::RunStatus;
use std::os::unix::fs::DirBuilderExt;
use std::process::Stdio;

/// The name of a run's token in its launcher's token list.
pub fn run_token_name(workflow_id: &str) -> String {
    format!("run {workflow_id}")
}

impl Services {
    /// Starts the launch command of a run that has just been launched, if its target has one.
    /// Failing to start it fails the run (and so cleans it).
    pub(crate) async fn start_launch_command(&self, workflow_id: &str) {
        if let Err(message) = self.try_start_launch_command(workflow_id).await {
            tracing::warn!(workflow_id, %message, "launch command could not start");
            let _ = self.end_run(workflow_id, RunStatus::Failed, Some(&message), None).await;
        }
    }

    async fn try_start_launch_command(&self, workflow_id: &str) -> Result<(), String> {
        let unexpected = |e: &dyn std::fmt::Display| format!("Strongroom could not start the launch command: {e}");
        let run = runs::find(&self.db.pool, workflow_id).await.map_err(|e| unexpected(&e))?.ok_or("the run is gone")?;
        let target: RunTarget = serde_json::from_str(&run.target).map_err(|e| unexpected(&e))?;
        let Some(template) = target.config.launch_command.clone().filter(|c| !c.trim().is_empty()) else {
            return Ok(());
        };
        let work_dir = target.config.work_dir.clone().unwrap_or_default();
        let detail = self.describe_run_unchecked(&run).await.map_err(|e| unexpected(&e))?;

        let token = self.create_run_token(&run).await.map_err(|e| unexpected(&e))?;

        let runs_dir = std::path::Path::new(&work_dir).join(crate::providers::hpc::RUNS_DIR);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&runs_dir)
            .map_err(|e| format!("Strongroom could not create {}: {e}", runs_dir.display()))?;
        let log_path = runs_dir.join(format!("{workflow_id}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("Strongroom could not open the launch log {}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| unexpected(&e))?;
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&template)
            .current_dir(&work_dir)
            .envs(detail.launch_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("TOWER_ACCESS_TOKEN", &token)
            .env("STRONGROOM_PIPELINE", &run.pipeline)
            .env("STRONGROOM_RUN_NAME", &run.run_name)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("The launch command could not start: {e}"))?;
        tracing::info!(workflow_id, log = %log_path.display(), "launch command started");
        let db = self.db.clone();
        let id = workflow_id.to_string();
        let wake = self.worker_wake.clone();
        // A command that fails before Nextflow reports the end fails the run; one that exits 0
        // (a scheduler wrapper that only submits) leaves the run to Nextflow and the timekeeper.
        tokio::spawn(async move {
            let Ok(status) = child.wait().await else { return };
            if status.success() {
                return;
            }
            let message = format!("The launch command exited with {status} before Nextflow reported the end of the run.");
            if let Ok(mut tx) = db.begin().await {
                if let Ok(true) = runs::end(&mut tx, &id, RunStatus::Failed.as_str(), Some(&message), now_ms()).await {
                    let _ = tx.commit().await;
                    wake.notify_waiters();
                }
            }
        });
        Ok(())
    }

    /// Deletes a cleaned run's token, if it had one.
    pub(crate) async fn delete_run_token(&self, launched_by: i64, workflow_id: &str) -> Result<(), sqlx::Error> {
        tokens::delete_by_name(&self.db.pool, launched_by, &run_token_name(workflow_id)).await
    }
}
