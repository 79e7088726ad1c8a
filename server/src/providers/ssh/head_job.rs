//! [`HeadJobs`] for [`SshStore`]: writes the run's launch files over SFTP, submits `head.sh`
//! with the cluster's scheduler from the launch directory, follows it and cancels it.
//!
//! Submitting is idempotent: the `job-id` marker written after a submit, then the scheduler's
//! own list of the account's jobs named `sr-<workflowId>`, are looked at first, so a submit
//! called again after a crash or a dropped connection returns the job that exists. (Moab cannot
//! list jobs by name: there only the marker protects, and a crash between `msub` answering and
//! the marker being written would submit again.) The token goes only into `run-token` (0600).

use super::connect::Connection;
use super::errors::SshError;
use super::exec::{self, Output};
use super::head_script::{head_script, nextflow_config, ScriptInput};
use super::layout::{self, CONFIG_FILE, JOB_ID_FILE, LOG_FILE, PARAMS_FILE, SCRIPT_FILE, TOKEN_FILE};
use super::run_files;
use super::scheduler::{job_id_is_valid, Runner, Submission, STOP_PAUSE};
use super::store::SshStore;
use crate::providers::{HeadJobSpec, HeadJobState, HeadJobs, ProviderError};
use async_trait::async_trait;
use secrecy::ExposeSecret;
use std::time::Instant;

#[async_trait]
impl Runner for Connection {
    async fn run(&self, line: &str) -> Result<Output, SshError> {
        Connection::run(self, line).await
    }
}

impl SshStore {
    /// Finds the job an earlier submit made: the marker, else the scheduler's list by name.
    async fn existing_job(&self, conn: &Connection, workflow_id: &str) -> Result<Option<String>, SshError> {
        if let Some(id) = run_files::read_file(conn, &self.layout, workflow_id, JOB_ID_FILE).await? {
            if job_id_is_valid(&id) {
                return Ok(Some(id));
            }
        }
        let Some(find) = self.scheduler.find(&format!("sr-{workflow_id}"), &self.endpoint.user) else {
            return Ok(None);
        };
        let listed = conn.run(&find).await?;
        Ok(self.scheduler.parse_find(&listed))
    }

    async fn write_launch_files(
        &self,
        conn: &Connection,
        job: &HeadJobSpec<'_>,
    ) -> Result<Submission, SshError> {
        let (layout, wf) = (&self.layout, job.workflow_id);
        let run_dir = run_files::ensure_run_dir(conn, layout, wf).await?;
        let token = job.run_token.expose_secret().as_bytes();
        run_files::write_file(conn, layout, wf, TOKEN_FILE, token, 0o600).await?;
        let params_file = match job.params_text.filter(|p| !p.trim().is_empty()) {
            Some(params) => {
                Some(run_files::write_file(conn, layout, wf, PARAMS_FILE, params.as_bytes(), 0o600).await?)
            }
            None => None,
        };
        let launch = &self.launch;
        let config = nextflow_config(
            self.scheduler,
            launch.compute_queue.as_deref(),
            &launch.environment,
            launch.nextflow_config.as_deref(),
            job.config_text,
        )?;
        let config_file =
            run_files::write_file(conn, layout, wf, CONFIG_FILE, config.as_bytes(), 0o600).await?;
        let profiles = job.config_profiles.join(",");
        let script = head_script(&ScriptInput {
            workflow_id: wf,
            run_dir: &run_dir,
            launch_dir: self.launch_dir(),
            launch_env: job.launch_env,
            environment: &launch.environment,
            pre_run_script: launch.pre_run_script.as_deref(),
            post_run_script: launch.post_run_script.as_deref(),
            pipeline: job.pipeline,
            run_name: job.run_name,
            revision: job.revision,
            tower_endpoint: job.tower_endpoint,
            params_file: params_file.as_deref(),
            config_file: Some(&config_file),
            profiles: &profiles,
        })?;
        let script_file =
            run_files::write_file(conn, layout, wf, SCRIPT_FILE, script.as_bytes(), 0o700).await?;
        Ok(Submission {
            name: format!("sr-{wf}"),
            log: format!("{run_dir}/{LOG_FILE}"),
            queue: launch.head_queue.clone(),
            options: launch.head_job_options.clone(),
            script: script_file,
            user: self.endpoint.user.clone(),
        })
    }

    fn launch_dir(&self) -> &str {
        self.launch.launch_dir.as_deref().unwrap_or(self.layout.work_dir())
    }

    async fn submit_once(&self, conn: &Connection, job: &HeadJobSpec<'_>) -> Result<String, SshError> {
        if let Some(id) = self.existing_job(conn, job.workflow_id).await? {
            return Ok(id);
        }
        let submission = self.write_launch_files(conn, job).await?;
        let command =
            format!("cd {} && {}", exec::quote(self.launch_dir()), self.scheduler.submit(&submission));
        let program = self.scheduler.submit_program();
        let submitted = conn.run(&command).await?;
        if !submitted.success() {
            return Err(SshError::Rejected(format!(
                "{program} refused the head job: {}",
                submitted.reason()
            )));
        }
        let id = self.scheduler.parse_submit(&submitted).ok_or_else(|| {
            SshError::Rejected(format!("{program} did not print a job id: {}", submitted.reason()))
        })?;
        run_files::write_file(conn, &self.layout, job.workflow_id, JOB_ID_FILE, id.as_bytes(), 0o600).await?;
        Ok(id)
    }
}

#[async_trait]
impl HeadJobs for SshStore {
    async fn submit(&self, job: &HeadJobSpec<'_>) -> Result<String, ProviderError> {
        self.require_pinned()?;
        layout::check_workflow_id(job.workflow_id)?;
        let started = Instant::now();
        let _guard = self.run_lock(job.workflow_id).lock().await;
        let id = self
            .with_connection("submit the head job", |conn| async move { self.submit_once(&conn, job).await })
            .await?;
        tracing::info!(host = %self.endpoint.host, account = %self.endpoint.user,
            workflow_id = job.workflow_id,
            job_id = %id, ms = started.elapsed().as_millis() as u64, "head job submitted");
        Ok(id)
    }

    async fn status(&self, workflow_id: &str, job_id: &str) -> Result<HeadJobState, ProviderError> {
        self.require_pinned()?;
        layout::check_workflow_id(workflow_id)?;
        let (scheduler, user) = (self.scheduler, &self.endpoint.user);
        self.with_connection("follow the head job", |conn| async move {
            scheduler.status(conn.as_ref(), job_id, user).await
        })
        .await
        .map_err(Into::into)
    }

    /// Returns once the scheduler reports the job over, or after about two seconds
    /// (`Scheduler::cancel_until_over`), so the cleanup that follows finds the files of a job
    /// that was just starting.
    async fn cancel(&self, workflow_id: &str, job_id: &str) -> Result<(), ProviderError> {
        self.require_pinned()?;
        layout::check_workflow_id(workflow_id)?;
        let (scheduler, user) = (self.scheduler, &self.endpoint.user);
        let over = self
            .with_connection("cancel the head job", |conn| async move {
                scheduler.cancel_until_over(conn.as_ref(), job_id, user, STOP_PAUSE).await
            })
            .await?;
        if !over {
            tracing::warn!(
                host = %self.endpoint.host, account = %self.endpoint.user, workflow_id, job_id,
                "head job cancelled but still stopping; the cleanup goes on, and the reconciler \
                 removes what the job writes later"
            );
        }
        Ok(())
    }
}
