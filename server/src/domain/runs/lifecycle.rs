//! Runs after launch: reading them, ending them (Nextflow's report, a cancel, a timeout), and
//! the trace API Nextflow's `-with-tower` client calls. Every end sends the run's copies to
//! deletion in the same transaction (`db::runs::end`).

use crate::audit::Event;
use crate::db::{run_copies, runs};
use crate::domain::runs::launch_input::{check_project_name, check_run_name, check_session_id};
use crate::domain::{internal, now_ms, Core};
use crate::rbac::authorize_workspace;
use app::error::AppError;
use app::model::*;

fn not_found() -> AppError {
    AppError::not_found("Run")
}

fn parse<T: std::str::FromStr<Err = String>>(value: &str) -> Result<T, AppError> {
    value.parse().map_err(internal)
}

pub(crate) fn summary(row: &runs::RunRow) -> Result<RunSummary, AppError> {
    Ok(RunSummary {
        id: row.id.clone(),
        workspace_id: row.workspace_id,
        run_name: row.run_name.clone(),
        pipeline: row.pipeline.clone(),
        status: parse(&row.status)?,
        stage: parse(&row.stage)?,
        launched_by: row.launched_by_email.clone(),
        compute_env_name: row.compute_env_name.clone(),
        created_at: row.created_at,
        ended_at: row.ended_at,
    })
}

fn copy_view(row: run_copies::CopyRow) -> Result<CopyView, AppError> {
    Ok(CopyView {
        name: row.name,
        source: if row.source_scope == "user" { SecretSource::User } else { SecretSource::Workspace },
        state: parse(&row.state)?,
        reference: row.reference,
        error: row.last_error,
        attempts: row.attempts,
        updated_at: row.updated_at,
    })
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

    /// The run page's address, for Nextflow's `watchUrl`.
    pub async fn run_page_url(&self, workflow_id: &str) -> Result<String, AppError> {
        let base = self.public_url.trim_end_matches('/');
        let run = runs::find(&self.db.pool, workflow_id).await.map_err(internal)?.ok_or_else(not_found)?;
        let org = crate::db::workspaces::org_of(&self.db.pool, run.workspace_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        Ok(format!("{base}/orgs/{org}/workspaces/{}/runs/{workflow_id}", run.workspace_id))
    }

    async fn run_in_workspace(&self, workspace_id: i64, id: &str) -> Result<runs::RunRow, AppError> {
        runs::find(&self.db.pool, id)
            .await
            .map_err(internal)?
            .filter(|row| row.workspace_id == workspace_id)
            .ok_or_else(not_found)
    }

    pub async fn list_runs(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RunSummary>, i64), AppError> {
        let access = authorize_workspace(&self.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let (rows, total) =
            runs::list(&self.db.pool, access.workspace_id(), limit.clamp(1, 100), offset.max(0))
                .await
                .map_err(internal)?;
        Ok((rows.iter().map(summary).collect::<Result<_, _>>()?, total))
    }

    pub async fn describe_run(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: &str,
    ) -> Result<RunDetail, AppError> {
        let access = authorize_workspace(&self.db, actor, workspace_id, Permission::ReadWorkspace).await?;
        let row = self.run_in_workspace(access.workspace_id(), id).await?;
        let mut detail = self.describe_run_unchecked(&row).await?;
        detail.can_cancel =
            !detail.summary.status.is_final() && access.role.allows(Permission::LaunchWorkflow);
        Ok(detail)
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
            summary: summary(row)?,
            revision: row.revision.clone(),
            message: row.message.clone(),
            started_at: row.started_at,
            heartbeat_at: row.heartbeat_at,
            launch_env,
            copies: copies.into_iter().map(copy_view).collect::<Result<_, _>>()?,
            can_cancel: false,
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
        let ended = runs::end(&mut tx, id, status.as_str(), message, now_ms()).await.map_err(internal)?;
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

    pub async fn cancel_run(&self, actor: &SessionUser, workspace_id: i64, id: &str) -> Result<(), AppError> {
        let access = authorize_workspace(&self.db, actor, workspace_id, Permission::LaunchWorkflow).await?;
        let row = self.run_in_workspace(access.workspace_id(), id).await?;
        let event = Event::by(actor, "run.cancelled")
            .workspace(row.workspace_id)
            .target(format!("run {id} ({})", row.run_name));
        if self.end_run(id, RunStatus::Cancelled, Some("Cancelled by the user."), Some(event)).await? {
            Ok(())
        } else {
            Err(AppError::bad_request(format!("The run has already ended ({}).", row.status)))
        }
    }

    /// The run a trace call names, if the caller launched it and may still launch there.
    async fn traced_run(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
    ) -> Result<runs::RunRow, AppError> {
        let row = runs::find(&self.db.pool, id).await.map_err(internal)?.ok_or_else(not_found)?;
        if workspace_id.is_some_and(|w| w != row.workspace_id) {
            return Err(not_found());
        }
        authorize_workspace(&self.db, actor, row.workspace_id, Permission::LaunchWorkflow).await?;
        if row.launched_by != actor.id {
            return Err(AppError::Forbidden("Only the user who launched this run can report on it.".into()));
        }
        Ok(row)
    }

    /// `trace/create`: Nextflow names the run it was launched for (`TOWER_WORKFLOW_ID`), or, run
    /// by hand with `-with-tower`, asks for a new record (which has no copies).
    pub async fn trace_create(
        &self,
        actor: &SessionUser,
        workspace_id: Option<i64>,
        workflow_id: Option<&str>,
        run_name: Option<&str>,
        project_name: Option<&str>,
        session_id: Option<&str>,
    ) -> Result<String, AppError> {
        fn given(value: Option<&str>) -> Option<&str> {
            value.filter(|v| !v.is_empty())
        }
        given(run_name).map(check_run_name).transpose()?;
        given(project_name).map(check_project_name).transpose()?;
        given(session_id).map(check_session_id).transpose()?;
        if let Some(id) = workflow_id.filter(|id| !id.is_empty()) {
            return Ok(self.traced_run(actor, id, workspace_id).await?.id);
        }
        let workspace_id = workspace_id.ok_or_else(|| {
            AppError::bad_request("Give the workspace to record this run in (workspaceId).")
        })?;
        let access = authorize_workspace(&self.db, actor, workspace_id, Permission::LaunchWorkflow).await?;
        let id = crate::domain::runs::launch::new_workflow_id();
        let run_name = run_name.filter(|n| !n.is_empty()).unwrap_or("unnamed");
        let pipeline = project_name.filter(|n| !n.is_empty()).unwrap_or("unknown");
        let now = now_ms();
        let mut tx = self.db.begin().await.map_err(internal)?;
        let new = runs::NewRun {
            id: &id,
            workspace_id: access.workspace_id(),
            compute_env_id: None,
            launched_by: actor.id,
            run_name,
            pipeline,
            revision: None,
            target: "",
            stage: RunStage::Cleaned.as_str(),
            session_id: given(session_id),
        };
        runs::insert(&mut tx, new, now).await.map_err(internal)?;
        let event = Event::by(actor, "run.reported")
            .workspace(access.workspace_id())
            .target(format!("run {id} ({run_name})"));
        self.commit_audited(tx, event).await?;
        Ok(id)
    }

    pub async fn trace_begin(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
    ) -> Result<(), AppError> {
        let row = self.traced_run(actor, id, workspace_id).await?;
        runs::mark_started(&self.db.pool, &row.id, now_ms()).await.map_err(internal)?;
        Ok(())
    }

    pub async fn trace_heartbeat(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
    ) -> Result<(), AppError> {
        let row = self.traced_run(actor, id, workspace_id).await?;
        runs::touch_heartbeat(&self.db.pool, &row.id, now_ms()).await.map_err(internal)
    }

    /// `trace/complete`: Nextflow's verdict ends the run.
    pub async fn trace_complete(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
        success: bool,
        error_message: Option<&str>,
    ) -> Result<(), AppError> {
        let row = self.traced_run(actor, id, workspace_id).await?;
        let (status, message) = if success {
            (RunStatus::Succeeded, None)
        } else {
            (
                RunStatus::Failed,
                Some(error_message.filter(|m| !m.is_empty()).unwrap_or("Nextflow reported a failure.")),
            )
        };
        let event = Event::by(actor, "run.completed")
            .workspace(row.workspace_id)
            .target(format!("run {id} ({})", row.run_name))
            .detail(status.as_str());
        self.end_run(&row.id, status, message, Some(event)).await?;
        Ok(())
    }
}
