//! The "Check" of a compute environment (`ComputeCheckPort`): the same preflight a launch runs,
//! on demand, with its outcome kept as the environment's status (`AVAILABLE` or `INVALID`).

use super::Compute;
use crate::audit::{Event, Outcome};
use crate::db::compute_envs;
use crate::domain::{internal, now_ms};
use crate::policy::authorize_workspace;
use app::error::AppError;
use app::model::{ComputeCheck, Permission, SessionUser};
use app::ports::ComputeCheckPort;
use async_trait::async_trait;

#[async_trait]
impl ComputeCheckPort for Compute {
    async fn check_compute_env(
        &self,
        actor: &SessionUser,
        workspace_id: i64,
        id: i64,
    ) -> Result<ComputeCheck, AppError> {
        let access =
            authorize_workspace(&self.core.db, actor, workspace_id, Permission::ManageCompute).await?;
        let workspace_id = access.workspace_id();
        let env = compute_envs::find(&self.core.db.pool, workspace_id, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| AppError::not_found("Compute environment"))?;
        let target = env.target().map_err(internal)?;
        let outcome = self.core.preflight_target(workspace_id, &target).await;
        let check = match &outcome {
            Ok(()) => ComputeCheck { status: "AVAILABLE".into(), message: None, fix: None },
            Err(failure) => ComputeCheck {
                status: "INVALID".into(),
                message: Some(format!("Could not {}: {}", failure.step, failure.message)),
                fix: Some(failure.fix.clone()),
            },
        };
        compute_envs::set_status(&self.core.db.pool, workspace_id, id, &check.status, now_ms())
            .await
            .map_err(internal)?;
        let event = Event::by(actor, "compute_env.checked")
            .workspace(workspace_id)
            .target(format!("compute environment '{}' (id {id})", env.name))
            .outcome(if outcome.is_ok() { Outcome::Ok } else { Outcome::Failed })
            .detail(check.status.clone());
        self.core.record(event).await;
        Ok(check)
    }
}
