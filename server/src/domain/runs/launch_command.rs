//! Starting the head job of an HPC run whose compute environment has a launch command (an
//! `sbatch` wrapper, or `nextflow run …` for the local scheduler). The command runs with the
//! launch environment and a **run token**: an access token of the launcher made for this run
//! alone, which expires with the maximum run duration and is deleted when the run is cleaned.
//! The token is passed in the child's environment only; it is never logged or stored in clear.
//!
//! The command never runs as a user that can read Strongroom's key or database: as root, it runs
//! as the launch account (uid, gid, no supplementary groups); otherwise only if the service user
//! reads neither (`providers::hpc::host::launch_as`). Its environment is built from nothing
//! (`launch_env`), and its log is a 0600 file in the run directory, removed with the run.

use crate::db::{runs, tokens};
use crate::domain::{now_ms, Core};
use crate::providers::hpc::host::LaunchAs;
use crate::providers::hpc::HpcStore;
use app::model::RunStatus;
use std::process::Stdio;

/// The name of a run's token in its launcher's token list.
pub fn run_token_name(workflow_id: &str) -> String {
    format!("run {workflow_id}")
}

impl Core {
    /// Starts the launch command of a run that has just been launched, if its target has one.
    /// Failing to start it fails the run (and so cleans it).
    pub(crate) async fn start_launch_command(&self, workflow_id: &str) {
        if let Err(message) = self.try_start_launch_command(workflow_id).await {
            tracing::warn!(workflow_id, %message, "launch command could not start");
            let _ = self.end_run(workflow_id, RunStatus::Failed, Some(&message), None).await;
        }
    }

    async fn try_start_launch_command(&self, workflow_id: &str) -> Result<(), String> {
        let unexpected =
            |e: &dyn std::fmt::Display| format!("Strongroom could not start the launch command: {e}");
        let run = runs::find(&self.db.pool, workflow_id)
            .await
            .map_err(|e| unexpected(&e))?
            .ok_or("the run is gone")?;
        let target = run.target.as_ref().ok_or_else(|| unexpected(&"the run has no target"))?;
        let Some(template) = target.config.launch_command.clone().filter(|c| !c.trim().is_empty()) else {
            return Ok(());
        };
        let launch_as = self.hpc_host.launch_as()?;
        let store =
            HpcStore::open(&target.config, &self.install_id, &self.hpc_host).map_err(|e| e.to_string())?;
        let detail = self.describe_run_unchecked(&run).await.map_err(|e| unexpected(&e))?;

        let token =
            self.create_run_token(&run, &run_token_name(&run.id)).await.map_err(|e| unexpected(&e))?;

        let (log, log_path) = store
            .open_launch_log(workflow_id)
            .map_err(|e| format!("Strongroom could not open the launch log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| unexpected(&e))?;
        let home = match &launch_as {
            LaunchAs::Account(account) => Some(account.home.to_string_lossy().into_owned()),
            LaunchAs::ServiceUser => None,
        };
        let run_vars = [
            ("TOWER_ACCESS_TOKEN", token.as_str()),
            ("SR_PIPELINE", &run.pipeline),
            ("SR_RUN_NAME", &run.run_name),
        ];
        let env = crate::domain::runs::launch_env::child_environment(
            &detail.launch_env,
            &run_vars,
            &self.hpc_host.env_allow,
            home.as_deref(),
            |name| std::env::var(name).ok(),
        );
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(&template)
            .current_dir(store.work_dir())
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if let LaunchAs::Account(account) = &launch_as {
            // As root, std drops the supplementary groups when it switches uid.
            command.uid(account.uid).gid(account.gid);
        }
        let mut child =
            command.spawn().map_err(|e| format!("The launch command could not start: {}", e.kind()))?;
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
            let message = format!(
                "The launch command exited with {status} before Nextflow reported the end of the run."
            );
            if let Ok(mut tx) = db.begin().await {
                if let Ok(true) = runs::end(&mut tx, &id, RunStatus::Failed, Some(&message), now_ms()).await {
                    let _ = tx.commit().await;
                    wake.notify_waiters();
                }
            }
        });
        Ok(())
    }

    /// Deletes a cleaned run's tokens, if it had any.
    pub(crate) async fn delete_run_token(
        &self,
        launched_by: i64,
        workflow_id: &str,
    ) -> Result<(), sqlx::Error> {
        tokens::delete_for_run(&self.db.pool, launched_by, workflow_id).await
    }
}
