//! The trace API Nextflow's `-with-tower` client calls while a run goes on (the `TracePort`):
//! create (naming the run it was launched for, or asking for a new record), begin, heartbeat and
//! complete. Only the user who launched a run, and who may still launch in its workspace, reports
//! on it.

use super::launch_input::{check_project_name, check_run_name, check_session_id};
use super::Runs;
use crate::audit::Event;
use crate::db::runs;
use crate::domain::{internal, now_ms};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::*;
use app::ports::{TracePort, TracedRun};
use async_trait::async_trait;

fn not_found() -> AppError {
    AppError::not_found("Run")
}

impl Runs {
    /// The run page's address, for Nextflow's `watchUrl`.
    async fn run_page_url(&self, workflow_id: &str) -> Result<String, AppError> {
        let base = self.core.public_url.trim_end_matches('/');
        let run =
            runs::find(&self.core.db.pool, workflow_id).await.map_err(internal)?.ok_or_else(not_found)?;
        let org = crate::db::workspaces::org_of(&self.core.db.pool, run.workspace_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Internal)?;
        Ok(format!("{base}/orgs/{org}/workspaces/{}/runs/{workflow_id}", run.workspace_id))
    }

    /// The run a trace call names, if the caller launched it and may still launch there.
    async fn traced_run(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
    ) -> Result<runs::RunRow, AppError> {
        let row = runs::find(&self.core.db.pool, id).await.map_err(internal)?.ok_or_else(not_found)?;
        if workspace_id.is_some_and(|w| w != row.workspace_id) {
            return Err(not_found());
        }
        authorize_workspace(&self.core.db, actor, row.workspace_id, Permission::LaunchWorkflow).await?;
        if row.launched_by != actor.id {
            return Err(AppError::Forbidden("Only the user who launched this run can report on it.".into()));
        }
        Ok(row)
    }
}

#[async_trait]
impl TracePort for Runs {
    /// `trace/create`: Nextflow names the run it was launched for (`TOWER_WORKFLOW_ID`), or, run
    /// by hand with `-with-tower`, asks for a new record (which has no copies).
    async fn trace_create(
        &self,
        actor: &SessionUser,
        workspace_id: Option<i64>,
        workflow_id: Option<&str>,
        run_name: Option<&str>,
        project_name: Option<&str>,
        session_id: Option<&str>,
    ) -> Result<TracedRun, AppError> {
        fn given(value: Option<&str>) -> Option<&str> {
            value.filter(|v| !v.is_empty())
        }
        given(run_name).map(check_run_name).transpose()?;
        given(project_name).map(check_project_name).transpose()?;
        given(session_id).map(check_session_id).transpose()?;
        if let Some(id) = workflow_id.filter(|id| !id.is_empty()) {
            let workflow_id = self.traced_run(actor, id, workspace_id).await?.id;
            let watch_url = self.run_page_url(&workflow_id).await?;
            return Ok(TracedRun { workflow_id, watch_url });
        }
        let workspace_id = workspace_id.ok_or_else(|| {
            AppError::bad_request("Give the workspace to record this run in (workspaceId).")
        })?;
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::LaunchWorkflow).await?;
        let id = crate::domain::runs::launch::new_workflow_id();
        let run_name = run_name.filter(|n| !n.is_empty()).unwrap_or("unnamed");
        let pipeline = project_name.filter(|n| !n.is_empty()).unwrap_or("unknown");
        let now = now_ms();
        let mut tx = self.core.db.begin().await.map_err(internal)?;
        let new = runs::NewRun {
            id: &id,
            workspace_id: access.workspace_id(),
            compute_env_id: None,
            launched_by: actor.id,
            run_name,
            pipeline,
            revision: None,
            target: None,
            stage: RunStage::Cleaned,
            session_id: given(session_id),
            launch_fields: None,
        };
        runs::insert(&mut tx, new, now).await.map_err(internal)?;
        let event = Event::by(actor, "run.reported")
            .workspace(access.workspace_id())
            .target(format!("run {id} ({run_name})"));
        self.core.commit_audited(tx, event).await?;
        let watch_url = self.run_page_url(&id).await?;
        Ok(TracedRun { workflow_id: id, watch_url })
    }

    /// `trace/begin`: the run started; answers the run page's address.
    async fn trace_begin(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
    ) -> Result<String, AppError> {
        let row = self.traced_run(actor, id, workspace_id).await?;
        runs::mark_started(&self.core.db.pool, &row.id, now_ms()).await.map_err(internal)?;
        self.run_page_url(id).await
    }

    async fn trace_heartbeat(
        &self,
        actor: &SessionUser,
        id: &str,
        workspace_id: Option<i64>,
    ) -> Result<(), AppError> {
        let row = self.traced_run(actor, id, workspace_id).await?;
        runs::touch_heartbeat(&self.core.db.pool, &row.id, now_ms()).await.map_err(internal)
    }

    /// `trace/complete`: Nextflow's verdict ends the run.
    async fn trace_complete(
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
        self.core.end_run(&row.id, status, message, Some(event)).await?;
        Ok(())
    }
}
