//! Runs after launch: reading them and ending them (Nextflow's report, a cancel, a timeout). The
//! `RunsPort` (list, describe, cancel) is implemented here. Every end sends the run's copies to
//! deletion in the same transaction (`db::runs::end`).

use super::Runs;
use crate::audit::Event;
use crate::db::{run_copies, runs};
use crate::domain::{internal, now_ms, Core};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::{Page, RunsPort};
use async_trait::async_trait;

fn not_found() -> AppError {
    AppError::not_found("Run")
}

pub(crate) fn summary(row: &runs::RunRow) -> RunSummary {
    RunSummary {
        id: row.id.clone(),
        workspace_id: row.workspace_id,
        run_name: row.run_name.clone(),
        pipeline: row.pipeline.clone(),
        status: row.status,
        stage: row.stage,
        launched_by: row.launched_by_email.clone(),
        compute_env_name: row.compute_env_name.clone(),
        created_at: row.created_at,
        ended_at: row.ended_at,
    }
}

fn copy_view(row: run_copies::CopyRow) -> CopyView {
    CopyView {
        name: row.name,
        source: row.source,
        state: row.state,
        reference: row.reference,
        error: row.last_error,
        attempts: row.attempts,
        updated_at: row.updated_at,
    }
}

fn head_job_view(
    job: &crate::db::head_jobs::HeadJobColumns,
    target: Option<&crate::providers::RunTarget>,
) -> Option<HeadJobView> {
    let job_id = job.id.clone()?;
    Some(HeadJobView {
        console_url: target.and_then(|t| head_job_console_url(t, &job_id)),
        job_id,
        state: job.state.clone().unwrap_or_else(|| "QUEUED".into()),
        reason: job.reason.clone(),
        submitted_at: job.submitted_at,
        started_at: job.started_at,
    })
}

/// Where the cloud's console shows a head job: AWS Batch's job page in the run's region, Google
/// Batch's in its project and location. A cluster's scheduler has no console.
fn head_job_console_url(target: &crate::providers::RunTarget, job_id: &str) -> Option<String> {
    let config = &target.config;
    match target.platform {
        Platform::AwsBatch => Some(crate::providers::aws::console_url(config.region.as_deref()?, job_id)),
        Platform::GoogleBatch => Some(crate::providers::gcp::console_url(
            config.project.as_deref()?,
            config.location.as_deref()?,
            job_id,
        )),
        _ => None,
    }
}

/// What every head job gets, before the target's own entries.
fn base_environment(services: &Core, row: &runs::RunRow) -> Vec<(String, String)> {
    vec![
        ("TOWER_WORKFLOW_ID".into(), row.id.clone()),
        ("TOWER_WORKSPACE_ID".into(), row.workspace_id.to_string()),
        ("TOWER_API_ENDPOINT".into(), services.api_endpoint()),
        ("NXF_ENABLE_SECRETS".into(), "true".into()),
    ]
}

/// The shell command that starts Nextflow for this run and reports back here. The access token
/// is the launcher's own, which the command names but never holds.
fn command(services: &Core, row: &runs::RunRow, env: &[(String, String)]) -> String {
    let mut lines: Vec<String> = env.iter().map(|(k, v)| format!("export {k}={}", shell_quote(v))).collect();
    lines.push("export TOWER_ACCESS_TOKEN=<your access token>".into());
    let revision = row.revision.as_deref().map(|r| format!(" -r {}", shell_quote(r))).unwrap_or_default();
    lines.push(format!(
        "nextflow run {}{revision} -name {} -with-tower {}",
        shell_quote(&row.pipeline),
        shell_quote(&row.run_name),
        shell_quote(&services.api_endpoint())
    ));
    lines.join("\n")
}

fn shell_quote(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c)) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

impl Core {
    /// The API base URL runs report to.
    pub fn api_endpoint(&self) -> String {
        format!("{}/api", self.public_url.trim_end_matches('/'))
    }

    /// A run's detail, for a caller already allowed to see it (`can_cancel` is false).
    pub(crate) async fn describe_run_unchecked(&self, row: &runs::RunRow) -> Result<RunDetail, AppError> {
        let copies = run_copies::list_for_run(&self.db.pool, &row.id).await.map_err(internal)?;
        let mut launch_env = base_environment(self, row);
        if let Some(extra) = row.launch_env.as_deref() {
            let extra: Vec<(String, String)> = serde_json::from_str(extra).map_err(internal)?;
            launch_env.extend(extra);
        }
        Ok(RunDetail {
            command: command(self, row, &launch_env),
            summary: summary(row),
            revision: row.revision.clone(),
            message: row.message.clone(),
            started_at: row.started_at,
            heartbeat_at: row.heartbeat_at,
            launch_env,
            copies: copies.into_iter().map(copy_view).collect(),
            can_cancel: false,
            head_job: head_job_view(&row.head_job, row.target.as_ref()),
        })
    }

    /// Ends a run (the first end wins) and wakes the cleanup worker. Returns false if it had
    /// already ended.
    pub async fn end_run(
        &self,
        id: &str,
        status: RunStatus,
        message: Option<&str>,
        event: Option<Event>,
    ) -> Result<bool, AppError> {
        let mut tx = self.db.begin().await.map_err(internal)?;
        let ended = runs::end(&mut tx, id, status, message, now_ms()).await.map_err(internal)?;
        match (ended, event) {
            (true, Some(event)) => self.commit_audited(tx, event).await?,
            _ => tx.commit().await.map_err(internal)?,
        }
        if ended {
            tracing::info!(workflow_id = %id, status = status.as_str(), "run ended; cleaning up its copies");
            self.wake_workers();
        }
        Ok(ended)
    }
}

impl Runs {
    async fn run_in_workspace(&self, workspace_id: i64, id: &str) -> Result<runs::RunRow, AppError> {
        runs::find_in_workspace(&self.core.db.pool, workspace_id, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)
    }
}

#[async_trait]
impl RunsPort for Runs {
    async fn list_runs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Page<RunSummary>, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let (rows, total) =
            runs::list(&self.core.db.pool, access.workspace_id(), limit.clamp(1, 100), offset.max(0))
                .await
                .map_err(internal)?;
        Ok(Page { items: rows.iter().map(summary).collect(), total })
    }

    async fn describe_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: String,
    ) -> Result<RunDetail, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let row = self.run_in_workspace(access.workspace_id(), &id).await?;
        let mut detail = self.core.describe_run_unchecked(&row).await?;
        detail.can_cancel =
            !detail.summary.status.is_final() && access.role.allows(Permission::LaunchWorkflow);
        Ok(detail)
    }

    async fn cancel_run(&self, actor: &SessionUser, workspace_id: i64, id: String) -> Result<(), AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::LaunchWorkflow).await?;
        let row = self.run_in_workspace(access.workspace_id(), &id).await?;
        let event = Event::by(actor, "run.cancelled")
            .workspace(row.workspace_id)
            .target(format!("run {id} ({})", row.run_name));
        // Says who, in the words the run page shows: "Cancelled by Ada Admin."
        let message = format!("Cancelled by {}.", actor.display_name);
        if self.core.end_run(&id, RunStatus::Cancelled, Some(&message), Some(event)).await? {
            Ok(())
        } else {
            Err(AppError::bad_request(format!("The run has already ended ({}).", row.status.as_str())))
        }
    }
}
