//! Who may point a compute environment's `endpointUrl` where (issue 10, item 4): listed
//! endpoints (`endpoint_allow`) are open to anyone who manages compute; any other needs an
//! instance administrator and must resolve to public addresses only; a Google environment's
//! token goes only to Google's own hosts or a listed endpoint. The same rules are checked again
//! whenever a store is opened (`providers::open_checked`).

use super::Compute;
use crate::providers::endpoints::{self, ALLOW_SETTING};
use app::error::AppError;
use app::model::{Platform, SessionUser};

impl Compute {
    /// Checks the endpoint an environment is saved with, when it is new or changed (an unchanged
    /// one chosen earlier by an instance administrator stays, whoever renames the environment).
    pub(super) async fn check_endpoint_allowed(
        &self,
        actor: &SessionUser,
        platform: Platform,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), AppError> {
        let tidy = |e: Option<&str>| e.map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
        let (before, after) = (tidy(before), tidy(after));
        let Some(raw) = after else { return Ok(()) };
        // HPC platforms take no endpoint: `check_config` says so in its own words.
        if before.as_deref() == Some(raw.as_str()) || platform.scheduler().is_some() {
            return Ok(());
        }
        let url = endpoints::parse(&raw).map_err(AppError::bad_request)?;
        self.core.endpoints.check(&raw, actor.is_instance_admin).await.map_err(AppError::bad_request)?;
        if platform == Platform::GoogleBatch
            && !self.core.endpoints.is_listed(&url)
            && !endpoints::is_google_api(&url)
        {
            return Err(AppError::bad_request(format!(
                "endpointUrl of a Google environment must be one of Google's hosts (https://*.googleapis.com), \
                 since the service account's token is sent to it; an instance administrator can list another \
                 endpoint in {ALLOW_SETTING}."
            )));
        }
        Ok(())
    }
}
